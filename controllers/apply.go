package controllers

import (
	"context"
	"maps"
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// applyMembers carries out the plan's member actions in report order. An external
// command's gate-opening patch is its last write: the engine plans nothing more for it
// until its executor reports.
func (r *SequenceReconciler) applyMembers(ctx context.Context, cmds []batonv1.OperatorCommand, plan engine.Plan, now time.Time) error {
	gates := predecessorsDone(cmds)
	byName := make(map[string]*batonv1.OperatorCommand, len(cmds))
	for i := range cmds {
		byName[cmds[i].Name] = &cmds[i]
	}
	for _, mp := range plan.Members {
		cmd := byName[mp.Name]
		if cmd == nil {
			continue
		}
		if cmd.Status.Completed {
			r.runner.forget(cmd.UID)
		}
		if err := r.applyMember(ctx, gates, cmd, mp, now); err != nil {
			return err
		}
		// Only after the write: a write lost to a race describes nothing that happened.
		for _, e := range mp.Events {
			r.event(cmd, e)
		}
	}
	return nil
}

func (r *SequenceReconciler) applyMember(ctx context.Context, gates map[int]time.Time, cmd *batonv1.OperatorCommand, mp engine.MemberPlan, now time.Time) error {
	switch mp.Action {
	case engine.ActionSetStatus:
		return r.setStatus(ctx, gates, cmd, mp.Status, now)
	case engine.ActionOpenGate:
		if err := r.setStatus(ctx, gates, cmd, mp.Status, now); err != nil {
			return err
		}
		opened, err := addCommandLabels(ctx, r.client, cmd, mp.GateLabels)
		if opened {
			r.recorder.Eventf(cmd, nil, "Normal", "GateOpened", "OpenGate", "gate opened for an external executor: labels %v", mp.GateLabels)
		}
		return err
	case engine.ActionRun:
		if err := r.setStatus(ctx, gates, cmd, mp.Status, now); err != nil {
			return err
		}
		r.runner.start(cmd, mp)
	}
	return nil
}

// setStatus writes a planned status. The engine's plan carries the transition's event.
func (r *SequenceReconciler) setStatus(ctx context.Context, gates map[int]time.Time, cmd *batonv1.OperatorCommand, want batonv1.OperatorCommandStatus, now time.Time) error {
	from := cmd.Status.Phase
	changed, err := writeCommandStatus(ctx, r.client, cmd, want)
	if err != nil || !changed || from == want.Phase {
		return err
	}
	if want.Phase == batonv1.CommandReady && cmd.Spec.CommandIndex != nil {
		if done, ok := gates[*cmd.Spec.CommandIndex]; ok {
			gateLatency.Observe(now.Sub(done).Seconds())
		}
	}
	return nil
}

func (r *SequenceReconciler) event(obj client.Object, e engine.Event) {
	eventType := "Normal"
	if e.Warning {
		eventType = "Warning"
	}
	r.recorder.Eventf(obj, nil, eventType, e.Reason, "Reconcile", "%s", e.Message)
}

// predecessorsDone maps each commandIndex to when the last member of an earlier batch
// completed: the instant that batch's gate could open. The first batch has no entry.
func predecessorsDone(cmds []batonv1.OperatorCommand) map[int]time.Time {
	latest := map[int]time.Time{} // per index, its own latest completion
	for i := range cmds {
		c := &cmds[i]
		if c.Spec.CommandIndex == nil {
			continue
		}
		idx := *c.Spec.CommandIndex
		if _, seen := latest[idx]; !seen {
			latest[idx] = time.Time{}
		}
		if c.Status.CompletedAt != nil && c.Status.CompletedAt.After(latest[idx]) {
			latest[idx] = c.Status.CompletedAt.Time
		}
	}
	indexes := slices.Sorted(maps.Keys(latest))
	done := make(map[int]time.Time, len(indexes))
	var upTo time.Time
	for _, idx := range indexes {
		if !upTo.IsZero() {
			done[idx] = upTo
		}
		if latest[idx].After(upTo) {
			upTo = latest[idx]
		}
	}
	return done
}
