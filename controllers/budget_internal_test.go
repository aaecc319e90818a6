package controllers

import (
	"testing"
	"time"
)

// TestProgressWaitsFromFirstChange: progress is written progressInterval after it first
// differs from what is stored, whatever changes in between, and a write starts the wait
// afresh — so a sequence whose steps all finish within the interval costs no progress
// write before its final one.
func TestProgressWaitsFromFirstChange(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	u, other := unit{namespace: "ns", index: "seq:a"}, unit{namespace: "ns", index: "seq:b"}
	var p units

	if got, want := p.progressDue(u, t0), t0.Add(progressInterval); !got.Equal(want) {
		t.Errorf("first change: due %v, want %v", got, want)
	}
	if got, want := p.progressDue(u, t0.Add(900*time.Millisecond)), t0.Add(progressInterval); !got.Equal(want) {
		t.Errorf("a later change in the same wait: due %v, want %v", got, want)
	}
	if got, want := p.progressDue(other, t0.Add(500*time.Millisecond)), t0.Add(500*time.Millisecond+progressInterval); !got.Equal(want) {
		t.Errorf("another sequence: due %v, want %v", got, want)
	}
	p.with(u, func(st *unitState) { st.progressSince = time.Time{} }) // as a write does (sequenceWriter)
	t1 := t0.Add(5 * time.Second)
	if got, want := p.progressDue(u, t1), t1.Add(progressInterval); !got.Equal(want) {
		t.Errorf("first change after a write: due %v, want %v", got, want)
	}
}
