package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

func TestParseCommandEvents(t *testing.T) {
	for in, want := range map[string]CommandEvents{
		"": EventsWarnings, "warnings": EventsWarnings, "outcomes": EventsOutcomes, "all": EventsAll,
	} {
		got, err := ParseCommandEvents(in)
		if err != nil || got != want {
			t.Errorf("ParseCommandEvents(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseCommandEvents("none"); err == nil {
		t.Error(`ParseCommandEvents("none") took it`)
	}
}

// TestEventPolicy: which events on a command each policy records (DESIGN.md 5).
func TestEventPolicy(t *testing.T) {
	events := map[string]engine.Event{
		"failure":        {Warning: true, Reason: batonv1.ReasonHandlerFailed},
		"expiry":         {Warning: true, Reason: batonv1.ReasonExpired},
		"skip":           {Warning: true, Reason: batonv1.ReasonPredecessorFailed},
		"retry":          {Warning: true, Reason: batonv1.EventRetrying},
		"cutoff":         {Warning: true, Reason: batonv1.ReasonExecutorCutoff},
		"succeeded":      {Reason: batonv1.EventSucceeded},
		"condition skip": {Reason: batonv1.ReasonConditionFalse},
		"gate opened":    {Reason: batonv1.EventGateOpened},
		"ready":          {Reason: batonv1.EventReady},
		"started":        {Reason: batonv1.EventStarted},
	}
	warnings := []string{"cutoff", "expiry", "failure", "retry", "skip"}
	outcomes := append(append([]string{}, warnings...), "condition skip", "gate opened", "succeeded")
	all := append(append([]string{}, outcomes...), "ready", "started")
	for policy, want := range map[CommandEvents][]string{
		EventsWarnings: warnings, "": warnings, EventsOutcomes: outcomes, EventsAll: all,
	} {
		ev := newEventPolicy(nil, policy, &units{})
		got := map[string]bool{}
		for name, e := range events {
			if ev.wanted(e) {
				got[name] = true
			}
		}
		wantSet := map[string]bool{}
		for _, name := range want {
			wantSet[name] = true
		}
		if diff := cmp.Diff(wantSet, got); diff != "" {
			t.Errorf("policy %q records (-want +got):\n%s", policy, diff)
		}
	}
}
