package controllers

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// units is what this process remembers of each unit between reconciles: one entry per
// unit, behind one lock, forgotten in one place (forget, from the reconcile that finds the
// unit gone). Everything else a reconcile needs it re-derives from the API server's
// objects. The member index is not here: it mirrors the cache, kept by the command watch
// (a unit is gone when the index holds none of its commands), not this process's memory.
//
// An entry that comes to hold nothing is dropped at once, so the map holds only units with
// something remembered.
type units struct {
	mu   sync.Mutex
	byID map[string]*unitState
	// sequences counts the units' sequences by phase, behind baton_sequences.
	sequences map[batonv1.SequencePhase]int
}

// unitState is what is remembered of one unit.
type unitState struct {
	// written is the resourceVersion each object of the unit had after this process's last
	// write to it, until the cache shows that version (ownwrites.go).
	written map[types.UID]string
	// created is the CommandSequence this process created that the cache does not show
	// yet, written through so that it stays what is stored (sequence_status.go).
	created *batonv1.CommandSequence
	// progressSince is since when the sequence's progress has waited to be written; zero
	// when nothing waits (budget.go).
	progressSince time.Time
	// jobs are the unit's commands whose handlers this process holds (runner.go).
	jobs map[types.UID]*job
	// warned are the commands, and under the empty UID the sequence, already warned
	// Ungated (events.go).
	warned map[types.UID]bool
	// phase is the sequence's phase as last decided (metrics.go).
	phase batonv1.SequencePhase
}

func (st *unitState) empty() bool {
	return len(st.written) == 0 && st.created == nil && st.progressSince.IsZero() &&
		len(st.jobs) == 0 && len(st.warned) == 0 && st.phase == ""
}

// with calls f with unit u's entry, under the lock; f may change it. An entry that holds
// nothing afterwards is dropped.
func (s *units) with(u unit, f func(*unitState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*unitState{}
	}
	st := s.byID[u.id()]
	if st == nil {
		st = &unitState{}
	}
	f(st)
	if st.empty() {
		delete(s.byID, u.id())
	} else {
		s.byID[u.id()] = st
	}
}

// forget drops everything remembered of unit u: the reconcile found it gone, its commands
// and its sequence.
func (s *units) forget(u unit) {
	s.with(u, func(st *unitState) {
		s.countPhase(st, "")
		*st = unitState{}
	})
}
