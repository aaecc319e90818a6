package controllers

import (
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// CommandEvents is the --command-events policy: which events baton records on commands.
// Each costs an API write. A sequence always gets its two Normal events, when it starts
// running and when it ends (engine.Event.PhaseChange), and its Warnings.
type CommandEvents string

const (
	// EventsWarnings records on a command every Warning (failure, expiry, PredecessorFailed
	// skip, illegal transition, Ungated once, ExecutorCutoff, retries) and nothing else.
	// The default.
	EventsWarnings CommandEvents = "warnings"
	// EventsOutcomes adds one Normal event per terminal outcome and GateOpened for
	// external steps.
	EventsOutcomes CommandEvents = "outcomes"
	// EventsAll adds Ready and Started.
	EventsAll CommandEvents = "all"
)

// ParseCommandEvents reads a --command-events value; empty means warnings.
func ParseCommandEvents(v string) (CommandEvents, error) {
	switch p := CommandEvents(v); p {
	case "":
		return EventsWarnings, nil
	case EventsOutcomes, EventsAll, EventsWarnings:
		return p, nil
	}
	return "", fmt.Errorf("--command-events must be %s, %s or %s, not %q", EventsWarnings, EventsOutcomes, EventsAll, v)
}

// eventPolicy is the one place that decides which events are recorded, and records them.
type eventPolicy struct {
	recorder eventRecorder
	policy   CommandEvents
	// units remembers, per unit, the commands already warned Ungated (and, under the empty
	// UID, the sequence): the engine says it on every reconcile, the API hears it once.
	units *units
}

func newEventPolicy(rec eventRecorder, policy CommandEvents, mem *units) *eventPolicy {
	if policy == "" {
		policy = EventsWarnings
	}
	return &eventPolicy{recorder: rec, policy: policy, units: mem}
}

// command records e on a command of unit u if the policy lets it through.
func (ev *eventPolicy) command(u unit, cmd *batonv1.OperatorCommand, e engine.Event) {
	if !ev.wanted(e) || e.Reason == batonv1.ReasonUngated && !ev.first(u, cmd.UID) {
		return
	}
	ev.record(cmd, e)
}

// sequence records e on unit u's CommandSequence, whatever the policy: its start and end
// events and its Warnings, Ungated once.
func (ev *eventPolicy) sequence(u unit, seq *batonv1.CommandSequence, e engine.Event) {
	if e.Reason == batonv1.ReasonUngated && !ev.first(u, "") {
		return
	}
	ev.record(seq, e)
}

func (ev *eventPolicy) wanted(e engine.Event) bool {
	switch {
	case e.Warning:
		return true
	case ev.policy == EventsWarnings:
		return false
	case e.Reason == batonv1.EventReady || e.Reason == batonv1.EventStarted:
		return ev.policy == EventsAll
	}
	return true
}

func (ev *eventPolicy) record(obj client.Object, e engine.Event) {
	eventType := "Normal"
	if e.Warning {
		eventType = "Warning"
	}
	ev.recorder.Eventf(obj, nil, eventType, string(e.Reason), "Reconcile", "%s", e.Message)
}

// first reports whether uid (the sequence: "") of unit u is warned Ungated for the first
// time, and remembers it.
func (ev *eventPolicy) first(u unit, uid types.UID) bool {
	first := false
	ev.units.with(u, func(st *unitState) {
		if st.warned[uid] {
			return
		}
		if st.warned == nil {
			st.warned = map[types.UID]bool{}
		}
		st.warned[uid], first = true, true
	})
	return first
}

// forgetGone drops the warnings remembered of unit u's commands that no longer exist
// (lookup finds none).
func (ev *eventPolicy) forgetGone(u unit, lookup func(types.UID) *batonv1.OperatorCommand) {
	ev.units.with(u, func(st *unitState) {
		for uid := range st.warned {
			if uid != "" && lookup(uid) == nil {
				delete(st.warned, uid)
			}
		}
	})
}
