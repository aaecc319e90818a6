package controllers

import (
	"context"
	"fmt"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// applyMembers carries out the plan's member actions: those that open a gate first (the
// next batch waits on them; nothing waits on the final phase of the member that just
// completed), each group in report order. An external command's gate-opening patch is its
// last write: the engine plans nothing more for it until its executor reports. cmds are in
// the snapshot's order, so a member plan's position finds its command.
func (r *SequenceReconciler) applyMembers(ctx context.Context, u unit, cmds []*batonv1.OperatorCommand, plan engine.Plan, now time.Time) error {
	gates := gateTimes{cmds: cmds}
	var later []int // plan positions of the actions that open no gate
	for i := range plan.Members {
		mp := &plan.Members[i]
		if mp.Action == engine.ActionNone && len(mp.Events) == 0 {
			continue
		}
		if mp.Member >= len(cmds) || cmds[mp.Member].Name != mp.Name {
			return fmt.Errorf("the plan of %s does not match its commands at %s", u.key, mp.Name)
		}
		if !opensGate(mp.Action) {
			later = append(later, i)
			continue
		}
		if err := r.applyMember(ctx, u, &gates, cmds[mp.Member], mp, now); err != nil {
			return err
		}
	}
	for _, i := range later {
		mp := &plan.Members[i]
		if err := r.applyMember(ctx, u, &gates, cmds[mp.Member], mp, now); err != nil {
			return err
		}
	}
	return nil
}

func opensGate(a engine.ActionType) bool { return a == engine.ActionOpenGate || a == engine.ActionRun }

// applyMember carries out one member's action, then records its events: only after the
// write, since a write lost to a race describes nothing that happened.
func (r *SequenceReconciler) applyMember(ctx context.Context, u unit, gates *gateTimes, cached *batonv1.OperatorCommand, mp *engine.MemberPlan, now time.Time) error {
	cmd := cached.DeepCopy() // the cache's object: never written through
	if err := r.act(ctx, u, gates, cmd, mp, now); err != nil {
		return err
	}
	for _, e := range mp.Events {
		r.events.command(u, cmd, e)
	}
	return nil
}

func (r *SequenceReconciler) act(ctx context.Context, u unit, gates *gateTimes, cmd *batonv1.OperatorCommand, mp *engine.MemberPlan, now time.Time) error {
	switch mp.Action {
	case engine.ActionSetStatus:
		_, err := r.writer.write(ctx, u, cmd, *mp.Status)
		return err
	case engine.ActionOpenGate:
		if _, err := r.writer.write(ctx, u, cmd, *mp.Status); err != nil {
			return err
		}
		opened, err := r.writer.addLabels(ctx, u, cmd, mp.GateLabels)
		if opened {
			gates.observe(mp.Member, now)
			r.events.command(u, cmd, engine.Event{Reason: batonv1.EventGateOpened,
				Message: fmt.Sprintf("gate opened for an external executor: labels %v", mp.GateLabels)})
			if e, ok := r.unknownVersion(cmd); ok {
				r.events.command(u, cmd, e)
			}
		}
		return err
	case engine.ActionRun:
		if cmd.Status.Phase == "" || cmd.Status.Phase == batonv1.CommandPending {
			gates.observe(mp.Member, now)
		}
		r.runner.start(u, cmd, *mp)
	}
	return nil
}

// unknownVersion is the Warning for an external command whose type has in-process
// handlers, but none at its commandVersion: it is left to an external executor (another
// component may serve that version), and the Warning makes a mistyped version seen at its
// gate, not at its TTL.
func (r *SequenceReconciler) unknownVersion(cmd *batonv1.OperatorCommand) (engine.Event, bool) {
	versions := r.registry.Versions(cmd.Spec.CommandType)
	if len(versions) == 0 {
		return engine.Event{}, false
	}
	return engine.Event{Warning: true, Reason: batonv1.ReasonUnknownVersion, Message: fmt.Sprintf(
		"command type %q is handled in-process at versions %q, not %q: left to an external executor until its TTL",
		cmd.Spec.CommandType, versions, cmd.Spec.CommandVersion)}, true
}

// gateTimes observes gate latency: from the completion of the last member of the batch
// before (the instant the gate could open) to the opening of the gate (the claim of an
// in-process member, the gate patch of an external one).
type gateTimes struct {
	cmds []*batonv1.OperatorCommand // report order
	done map[int]time.Time          // by batch index, once asked; zero for the first batch
}

// observe records the opening of the gate of the command at position pos in cmds.
func (g *gateTimes) observe(pos int, now time.Time) {
	idx := g.cmds[pos].Spec.CommandIndex
	if idx == nil {
		return
	}
	done, ok := g.done[*idx]
	if !ok {
		done = previousBatchDone(g.cmds, pos)
		if g.done == nil {
			g.done = map[int]time.Time{}
		}
		g.done[*idx] = done
	}
	if !done.IsZero() {
		gateLatency.Observe(now.Sub(done).Seconds())
	}
}

// previousBatchDone is when the last member of the batch before that of the command at
// position pos completed (cmds in report order); zero when none did. Every earlier batch
// finished before that one opened, so it looks no further back: the cost is a batch, not
// the sequence, on every gate opening.
func previousBatchDone(cmds []*batonv1.OperatorCommand, pos int) time.Time {
	inBatch := func(k, index int) bool {
		i := cmds[k].Spec.CommandIndex
		return i != nil && *i == index
	}
	k := pos
	for k >= 0 && inBatch(k, *cmds[pos].Spec.CommandIndex) {
		k--
	}
	var latest time.Time
	if k < 0 || cmds[k].Spec.CommandIndex == nil {
		return latest
	}
	for prev := *cmds[k].Spec.CommandIndex; k >= 0 && inBatch(k, prev); k-- {
		if at := cmds[k].Status.CompletedAt; at != nil && at.After(latest) {
			latest = at.Time
		}
	}
	return latest
}
