package controllers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// applyMembers carries out the plan's member actions: those that open a gate first (the
// next batch waits on them; nothing waits on the final phase of the member that just
// completed), each group in report order. An external command's gate-opening patch is its
// last write: the engine plans nothing more for it until its executor reports.
func (r *SequenceReconciler) applyMembers(ctx context.Context, u unit, cmds []batonv1.OperatorCommand, plan engine.Plan, now time.Time) error {
	byName := make(map[string]*batonv1.OperatorCommand, len(cmds))
	for i := range cmds {
		byName[cmds[i].Name] = &cmds[i]
	}
	gates := gateTimes{cmds: cmds}
	for _, gatesFirst := range []bool{true, false} {
		if err := r.applyPass(ctx, u, &gates, byName, plan, now, gatesFirst); err != nil {
			return err
		}
	}
	return nil
}

// applyPass applies the actions that open a gate (opening true), or all the others.
func (r *SequenceReconciler) applyPass(ctx context.Context, u unit, gates *gateTimes, byName map[string]*batonv1.OperatorCommand,
	plan engine.Plan, now time.Time, opening bool) error {
	for _, mp := range plan.Members {
		if opensGate(mp.Action) != opening {
			continue
		}
		cmd := byName[mp.Name]
		if cmd == nil {
			continue
		}
		if cmd.Status.Completed {
			r.runner.forget(u, cmd.UID)
		}
		if mp.Action == engine.ActionNone && len(mp.Events) == 0 {
			continue
		}
		cmd = cmd.DeepCopy() // the cache's object: never written through
		if err := r.applyMember(ctx, u, gates, cmd, mp, now); err != nil {
			return err
		}
		// Only after the write: a write lost to a race describes nothing that happened.
		for _, e := range mp.Events {
			r.events.command(u, cmd, e)
		}
	}
	return nil
}

func opensGate(a engine.ActionType) bool { return a == engine.ActionOpenGate || a == engine.ActionRun }

func (r *SequenceReconciler) applyMember(ctx context.Context, u unit, gates *gateTimes, cmd *batonv1.OperatorCommand, mp engine.MemberPlan, now time.Time) error {
	switch mp.Action {
	case engine.ActionSetStatus:
		_, err := r.writer.write(ctx, cmd, mp.Status)
		return err
	case engine.ActionOpenGate:
		if _, err := r.writer.write(ctx, cmd, mp.Status); err != nil {
			return err
		}
		opened, err := addCommandLabels(ctx, r.client, cmd, mp.GateLabels)
		if opened {
			gates.observe(cmd, now)
			r.events.command(u, cmd, engine.Event{Reason: eventGateOpened,
				Message: fmt.Sprintf("gate opened for an external executor: labels %v", mp.GateLabels)})
		}
		return err
	case engine.ActionRun:
		if cmd.Status.Phase == "" || cmd.Status.Phase == batonv1.CommandPending {
			gates.observe(cmd, now)
		}
		r.runner.start(u, cmd, mp)
	}
	return nil
}

// gateTimes observes gate latency: from the completion of a batch's last predecessor to
// the opening of its gate (the claim of an in-process member, the gate patch of an
// external one).
type gateTimes struct {
	cmds []batonv1.OperatorCommand
	done map[int]time.Time // built on first use
}

func (g *gateTimes) observe(cmd *batonv1.OperatorCommand, now time.Time) {
	if cmd.Spec.CommandIndex == nil {
		return
	}
	if g.done == nil {
		g.done = predecessorsDone(g.cmds)
	}
	if done, ok := g.done[*cmd.Spec.CommandIndex]; ok {
		gateLatency.Observe(now.Sub(done).Seconds())
	}
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
