package engine

import (
	"context"
	"testing"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestCanTransition(t *testing.T) {
	cases := map[string]struct {
		from, to batonv1.CommandPhase
		want     bool
	}{
		"Pending to Ready":                  {batonv1.CommandPending, batonv1.CommandReady, true},
		"the empty phase is Pending":        {"", batonv1.CommandReady, true},
		"Ready to Running":                  {batonv1.CommandReady, batonv1.CommandRunning, true},
		"Running to Succeeded":              {batonv1.CommandRunning, batonv1.CommandSucceeded, true},
		"Running to Failed":                 {batonv1.CommandRunning, batonv1.CommandFailed, true},
		"several events in one observation": {batonv1.CommandReady, batonv1.CommandSucceeded, true},
		"Pending to Expired":                {batonv1.CommandPending, batonv1.CommandExpired, true},
		"Running to Skipped":                {batonv1.CommandRunning, batonv1.CommandSkipped, true},
		"Pending fails without running":     {batonv1.CommandPending, batonv1.CommandFailed, true},
		"staying put":                       {batonv1.CommandRunning, batonv1.CommandRunning, true},
		"a completed command started again": {batonv1.CommandSucceeded, batonv1.CommandRunning, false},
		"terminal to terminal":              {batonv1.CommandFailed, batonv1.CommandSucceeded, false},
		"Expired back to Pending":           {batonv1.CommandExpired, batonv1.CommandPending, false},
		"Running back to Ready":             {batonv1.CommandRunning, batonv1.CommandReady, false},
		"Ready back to Pending":             {batonv1.CommandReady, batonv1.CommandPending, false},
		"an unknown phase":                  {batonv1.CommandPending, "Bogus", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := CanTransition(tc.from, tc.to); got != tc.want {
				t.Errorf("CanTransition(%q, %q) = %v, want %v", tc.from, tc.to, got, tc.want)
			}
		})
	}
}

func TestCanTransitionSequence(t *testing.T) {
	cases := map[string]struct {
		from, to batonv1.SequencePhase
		want     bool
	}{
		"first write":                {"", batonv1.SequenceRunning, true},
		"Assembling to Running":      {batonv1.SequenceAssembling, batonv1.SequenceRunning, true},
		"Assembling to Failed":       {batonv1.SequenceAssembling, batonv1.SequenceFailed, true},
		"Assembling to Succeeded":    {batonv1.SequenceAssembling, batonv1.SequenceSucceeded, true},
		"Running to Succeeded":       {batonv1.SequenceRunning, batonv1.SequenceSucceeded, true},
		"Running back to Assembling": {batonv1.SequenceRunning, batonv1.SequenceAssembling, false},
		"Succeeded to Failed":        {batonv1.SequenceSucceeded, batonv1.SequenceFailed, false},
		"Failed to Running":          {batonv1.SequenceFailed, batonv1.SequenceRunning, false},
		"an unknown phase":           {batonv1.SequenceRunning, "Bogus", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := CanTransitionSequence(tc.from, tc.to); got != tc.want {
				t.Errorf("CanTransitionSequence(%q, %q) = %v, want %v", tc.from, tc.to, got, tc.want)
			}
		})
	}
}

// TestMachinesAreTheSource drives the fsm machines themselves, so the tables above cannot
// drift from them.
func TestMachinesAreTheSource(t *testing.T) {
	m := NewCommandMachine(batonv1.CommandPending)
	for _, ev := range []string{eventOpen, eventStart, eventSucceed} {
		if err := m.Event(context.Background(), ev); err != nil {
			t.Fatalf("event %s: %v", ev, err)
		}
	}
	if m.Current() != string(batonv1.CommandSucceeded) {
		t.Errorf("command machine ended in %s, want Succeeded", m.Current())
	}
	if m.Can(eventStart) || m.Can(eventSkip) || m.Can(eventExpire) {
		t.Errorf("a terminal command accepts events: %v", m.AvailableTransitions())
	}
	for _, from := range commandStates {
		for _, to := range commandStates {
			direct := false
			for _, ev := range NewCommandMachine(from).AvailableTransitions() {
				mm := NewCommandMachine(from)
				if mm.Event(context.Background(), ev) == nil && mm.Current() == string(to) {
					direct = true
				}
			}
			if direct && !CanTransition(from, to) {
				t.Errorf("machine allows %s -> %s, CanTransition refuses it", from, to)
			}
			if from.Terminal() && from != to && CanTransition(from, to) {
				t.Errorf("CanTransition allows leaving terminal %s for %s", from, to)
			}
		}
	}
	s := NewSequenceMachine(batonv1.SequenceAssembling)
	if err := s.Event(context.Background(), eventAbort); err != nil || s.Current() != string(batonv1.SequenceFailed) {
		t.Errorf("sequence abort from Assembling: %v, now %s", err, s.Current())
	}
}
