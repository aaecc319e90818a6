package engine

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int {
	if n <= 1 {
		return 0
	}
	return c.r.IntN(n)
}

// TestProperties checks the engine's properties over generated snapshots with fixed seeds.
func TestProperties(t *testing.T) {
	for seed := range uint64(4000) {
		c := randChooser{rand.New(rand.NewPCG(seed, 0x8a70))}
		s, opts, now := genCase(c, genInput{})
		if t.Failed() {
			return
		}
		checkProperties(t, s, opts, now)
	}
}

// checkProperties is every property of one decision, shared with FuzzDecide.
func checkProperties(t testing.TB, s Snapshot, opts Options, now time.Time) {
	t.Helper()
	orig := cloneSnapshot(s)
	p1 := Decide(s, opts, now)
	if diff := cmp.Diff(orig, s); diff != "" {
		t.Fatalf("Decide modified its input (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(p1, Decide(s, opts, now)); diff != "" {
		t.Fatalf("Decide is not deterministic (-first +second):\n%s", diff)
	}
	checkShape(t, s, p1, now)
	every := Plan{Status: p1.Status, Members: everyPlan(s, opts, p1), Events: p1.Events, NextWake: p1.NextWake}
	if diff := cmp.Diff(decide(s, opts, now, false), every, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("leaving the quiet batches out changes the plan (-every member decided +quiet left out):\n%s", diff)
	}
	checkGates(t, s, every)
	checkTerminal(t, s, every)
	checkQuiet(t, s, opts, every, now)

	next := applyPlan(s, p1, now)
	checkRoster(t, s, next, opts, now)
	p2 := Decide(next, opts, now)
	for _, mp := range p2.Members {
		if mp.Action != ActionNone {
			t.Fatalf("after applying the plan, member %s still has action %s (phase %s)\nsnapshot: %+v\nfirst plan: %+v",
				mp.Name, mp.Action, mp.Phase, s, p1.Members)
		}
		for _, ev := range mp.Events {
			if ev.Reason != batonv1.ReasonUngated {
				t.Fatalf("after applying the plan, member %s has event %+v", mp.Name, ev)
			}
		}
	}
	for _, ev := range p2.Events {
		if ev.Reason != batonv1.ReasonUngated {
			t.Fatalf("after applying the plan, the sequence has event %+v", ev)
		}
	}
	if diff := cmp.Diff(p1.Status, p2.Status); diff != "" {
		t.Fatalf("after applying the plan, the sequence status changes (-first +second):\n%s", diff)
	}
}

// checkShape: plans for members in report order, each named as its member, legal phases,
// a future wake-up.
func checkShape(t testing.TB, s Snapshot, p Plan, now time.Time) {
	t.Helper()
	order := reportOrder(s)
	rank := make(map[int]int, len(order))
	for k, i := range order {
		rank[i] = k
	}
	last := -1
	for _, mp := range p.Members {
		k, ok := rank[mp.Member]
		if !ok || k <= last {
			t.Fatalf("plan member %s at position %d is out of report order", mp.Name, mp.Member)
		}
		last = k
		m := s.Members[mp.Member]
		if mp.Name != m.Name {
			t.Fatalf("plan member at position %d is %s, want %s", mp.Member, mp.Name, m.Name)
		}
		recorded, observed, _ := observe(&m.Status)
		if recorded.Terminal() && mp.Phase != recorded || !CanTransition(observed, mp.Phase) {
			t.Fatalf("member %s: planned %s from recorded %s, observed %s\n%+v\n%+v", m.Name, mp.Phase, recorded, observed, *m, mp)
		}
		switch mp.Action {
		case ActionRun:
			if mp.MaxAttempts < 1 || mp.Env == nil || !m.HasHandler {
				t.Fatalf("member %s: ActionRun with MaxAttempts %d, Env %v, handler %v", m.Name, mp.MaxAttempts, mp.Env, m.HasHandler)
			}
		case ActionOpenGate:
			if mp.GateLabels[batonv1.LabelGate] != batonv1.GateOpen || m.HasHandler || mp.Status.Phase != batonv1.CommandReady {
				t.Fatalf("member %s: OpenGate with labels %v, handler %v, status phase %s", m.Name, mp.GateLabels, m.HasHandler, mp.Status.Phase)
			}
		}
	}
	if !p.NextWake.IsZero() && !p.NextWake.After(now) {
		t.Fatalf("NextWake %v is not after now %v", p.NextWake, now)
	}
	if prev := s.Sequence; prev != nil && sequenceOrdinal(prev.Phase) >= 0 && !CanTransitionSequence(prev.Phase, p.Status.Phase) {
		t.Fatalf("sequence goes from %s to %s", prev.Phase, p.Status.Phase)
	}
}

// everyPlan is p's plan for every member of s, in report order: a member p leaves out (a
// quiet one) has the plan that does nothing, its phase as observed.
func everyPlan(s Snapshot, opts Options, p Plan) []MemberPlan {
	out := make([]MemberPlan, 0, len(s.Members))
	next := 0
	for _, i := range reportOrder(s) {
		if next < len(p.Members) && p.Members[next].Member == i {
			out = append(out, p.Members[next])
			next++
			continue
		}
		m := s.Members[i]
		_, observed, _ := observe(&m.Status)
		_, dl := deadline(m, opts)
		out = append(out, MemberPlan{Name: m.Name, Member: i, Status: &m.Status, Phase: observed, Deadline: dl})
	}
	return out
}

// checkGates: no gate opens while an earlier batch has a member that did not pass, and none
// before the sequence assembled.
func checkGates(t testing.TB, s Snapshot, p Plan) {
	t.Helper()
	order := reportOrder(s)
	opened := false
	for k, i := range order {
		mp := &p.Members[k]
		if mp.Action != ActionRun && mp.Action != ActionOpenGate {
			continue
		}
		opened = true
		m := s.Members[i]
		if m.Index == nil {
			continue
		}
		for k2, j := range order {
			e := s.Members[j]
			if e.Index == nil || *e.Index >= *m.Index {
				continue
			}
			if !passes(&memberState{m: e, plan: p.Members[k2]}) {
				t.Fatalf("member %s (batch %d) opens while %s (batch %d) is %s", m.Name, *m.Index, e.Name, *e.Index, p.Members[k2].Phase)
			}
		}
	}
	if opened && !assembledOrStarted(s) {
		t.Fatalf("a gate opens in a sequence that never assembled: %+v", s)
	}
}

func assembledOrStarted(s Snapshot) bool {
	if prev := s.Sequence; prev != nil && (prev.Phase == batonv1.SequenceRunning || prev.Phase.Terminal()) {
		return true
	}
	for _, m := range s.Members {
		if m.Status.Phase == batonv1.CommandReady || m.Status.Phase == batonv1.CommandRunning ||
			!m.HasHandler && m.Labels[batonv1.LabelGate] == batonv1.GateOpen {
			return true
		}
	}
	if len(s.Members) == 1 && s.Members[0].Count == nil {
		return true
	}
	for _, m := range s.Members {
		if m.Count == nil || *m.Count != len(s.Members) || m.Index == nil {
			return false
		}
	}
	return true
}

// checkTerminal: a terminal member never changes, unless its record was contradicted and is
// restored; a terminal sequence never changes.
func checkTerminal(t testing.TB, s Snapshot, p Plan) {
	t.Helper()
	for k, i := range reportOrder(s) {
		m, mp := s.Members[i], &p.Members[k]
		if !m.Status.Phase.Terminal() {
			continue
		}
		if m.Status.Completed {
			if mp.Action != ActionNone || !cmp.Equal(*mp.Status, m.Status) {
				t.Fatalf("terminal member %s changes: action %s, status %+v", m.Name, mp.Action, mp.Status)
			}
			continue
		}
		if mp.Action != ActionSetStatus || mp.Phase != m.Status.Phase || !mp.Status.Completed {
			t.Fatalf("contradicted terminal member %s is not restored: %+v", m.Name, mp)
		}
	}
	if prev := s.Sequence; prev != nil && prev.Phase.Terminal() {
		want := *prev.DeepCopy()
		if want.Report == nil {
			want.Report = p.Status.Report
		}
		if diff := cmp.Diff(want, p.Status); diff != "" || p.Status.Report == nil {
			t.Fatalf("terminal sequence changes (-before +after):\n%s", diff)
		}
	}
}

// checkQuiet: nothing is written to an external command after its gate opened, until it
// completes or its TTL passes.
func checkQuiet(t testing.TB, s Snapshot, opts Options, p Plan, now time.Time) {
	t.Helper()
	for k, i := range reportOrder(s) {
		m, mp := s.Members[i], &p.Members[k]
		if m.HasHandler || m.Labels[batonv1.LabelGate] != batonv1.GateOpen || m.Status.Completed || m.Status.Phase.Terminal() {
			continue
		}
		if _, dl := deadline(m, opts); !dl.IsZero() && !now.Before(dl) {
			continue
		}
		if mp.Action != ActionNone || !cmp.Equal(*mp.Status, m.Status) {
			t.Fatalf("external member %s is written after its gate opened: %+v", m.Name, mp)
		}
	}
}
