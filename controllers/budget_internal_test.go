package controllers

import (
	"testing"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// TestProgressWaitsFromFirstChange: progress is written progressInterval after it first
// differs from what is stored, whatever changes in between, and a write starts the wait
// afresh — so a sequence whose steps all finish within the interval costs no progress
// write before its final one.
func TestProgressWaitsFromFirstChange(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	u, other := unit{namespace: "ns", index: "seq:a"}, unit{namespace: "ns", index: "seq:b"}
	var p progressWrites

	if got, want := p.due(u, t0), t0.Add(progressInterval); !got.Equal(want) {
		t.Errorf("first change: due %v, want %v", got, want)
	}
	if got, want := p.due(u, t0.Add(900*time.Millisecond)), t0.Add(progressInterval); !got.Equal(want) {
		t.Errorf("a later change in the same wait: due %v, want %v", got, want)
	}
	if got, want := p.due(other, t0.Add(500*time.Millisecond)), t0.Add(500*time.Millisecond+progressInterval); !got.Equal(want) {
		t.Errorf("another sequence: due %v, want %v", got, want)
	}
	p.wrote(u)
	t1 := t0.Add(5 * time.Second)
	if got, want := p.due(u, t1), t1.Add(progressInterval); !got.Equal(want) {
		t.Errorf("first change after a write: due %v, want %v", got, want)
	}
}

// TestClaimedBy: only this process's claim, and nothing else in the same change, defers a
// reconcile.
func TestClaimedBy(t *testing.T) {
	pending := indexed("m0", "a", 0)
	claim := func(edit func(*batonv1.OperatorCommand)) *batonv1.OperatorCommand {
		c := pending.DeepCopy()
		c.Status.Started, c.Status.Executer, c.Status.Phase = true, "pod-1", batonv1.CommandRunning
		if edit != nil {
			edit(c)
		}
		return c
	}
	for name, tc := range map[string]struct {
		old, cmd *batonv1.OperatorCommand
		want     bool
	}{
		"this process's claim":       {pending, claim(nil), true},
		"another executer's claim":   {pending, claim(func(c *batonv1.OperatorCommand) { c.Status.Executer = "pod-2" }), false},
		"a claim and its completion": {pending, claim(func(c *batonv1.OperatorCommand) { c.Status.Completed = true }), false},
		"a claim and a new label": {pending, claim(func(c *batonv1.OperatorCommand) {
			c.Labels = map[string]string{batonv1.LabelSequence: "a", "x": "y"}
		}), false},
		"a claim into another sequence": {pending, claim(func(c *batonv1.OperatorCommand) { c.Labels[batonv1.LabelSequence] = "b" }), false},
		"a claim and a new annotation": {pending, claim(func(c *batonv1.OperatorCommand) {
			c.Annotations = map[string]string{batonv1.AnnotationCancel: "true"}
		}), false},
		"a change after the claim": {claim(nil), claim(func(c *batonv1.OperatorCommand) { c.Status.Attempts = 2 }), false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := claimedBy(tc.old, tc.cmd, "pod-1"); got != tc.want {
				t.Errorf("claimedBy = %t, want %t", got, tc.want)
			}
		})
	}
}
