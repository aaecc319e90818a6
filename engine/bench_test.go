package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// benchSnapshot is a sequence of n members in batches of 5, caught at the instant its
// middle batch opens: the first half succeeded with JSON payloads, the middle batch mixes
// in-process and held external members with conditions over earlier steps, the rest wait.
// It exercises every per-member path of a busy decision: sorting, the condition Env built
// from earlier payloads, expressions, gate labels, TTLs.
func benchSnapshot(n int) Snapshot {
	const batchSize = 5
	batches := (n + batchSize - 1) / batchSize
	mid := batches / 2
	s := Snapshot{Namespace: "ns", Key: "bench", Sequence: &batonv1.CommandSequenceStatus{
		Phase: batonv1.SequenceRunning, StartedAt: mt(0), CurrentBatch: ptr(mid - 1)}}
	for i := range n {
		b := i / batchSize
		w := MakeMember(fmt.Sprintf("step-%04d", i)).Seq(b, n).TTL(time.Hour)
		switch {
		case b < mid:
			w.Succeeded(fmt.Sprintf(`{"ok":true,"n":%d,"items":["a","b"]}`, i))
		case i%5 == 1:
			w.External().HoldLabels(`{"kubescape.io/app-name":"operator"}`).Phase(batonv1.CommandPending)
		case i%5 == 2:
			w.When(fmt.Sprintf(`steps["%d"].phase == "Succeeded" && steps["%d"].payload.ok`, max(b-1, 0), max(b-1, 0))).
				Phase(batonv1.CommandPending)
		default:
			w.Phase(batonv1.CommandPending)
		}
		s.Members = append(s.Members, w.Obj())
	}
	return s
}

// benchChain is a chain of n in-process steps caught in the middle, as a long sequence is
// on most of its reconciles: the first half succeeded, one member in flight, the rest
// waiting. Nothing is to be done: it measures what a reconcile costs per member.
func benchChain(n int) Snapshot {
	s := Snapshot{Namespace: "ns", Key: "bench", Sequence: &batonv1.CommandSequenceStatus{
		Phase: batonv1.SequenceRunning, StartedAt: mt(0), CurrentBatch: ptr(n / 2)}}
	for i := range n {
		w := MakeMember(fmt.Sprintf("step-%05d", i)).Seq(i, n).TTL(time.Hour)
		switch {
		case i < n/2:
			w.Succeeded("")
		case i == n/2:
			w.Running().InFlight()
		default:
			w.Phase(batonv1.CommandPending)
		}
		s.Members = append(s.Members, w.Obj())
	}
	return s
}

var benchOpts = Options{ExternalMaxAge: 30 * time.Minute, DefaultTTL: time.Hour}

func BenchmarkDecide(b *testing.B) {
	run := func(name string, s Snapshot) {
		b.Run(name, func(b *testing.B) {
			now := at(time.Minute)
			b.ReportAllocs()
			for b.Loop() {
				Decide(s, benchOpts, now)
			}
			n := len(s.Members)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/member")
			allocs := testing.AllocsPerRun(5, func() { Decide(s, benchOpts, now) })
			b.ReportMetric(allocs/float64(n), "allocs/member")
		})
	}
	for _, n := range []int{10, 100, 1000} {
		run(fmt.Sprintf("members=%d", n), benchSnapshot(n))
	}
	run("chain=10000", benchChain(10000))
	run("chain=10000/summarised", summarised(benchChain(10000), benchOpts))
}

// summarised is s as a caller that keeps its members in a Roster passes it.
func summarised(s Snapshot, opts Options) Snapshot {
	r := NewRoster(opts)
	for _, m := range s.Members {
		i, _ := slices.BinarySearchFunc(r.Members(), m, CompareMembers)
		r.Insert(i, m)
	}
	s.Members, s.Summary = r.Members(), r.Summary()
	return s
}

// TestAllocationsPerMemberFlat guards against a quadratic scan creeping in: allocations
// per member may not grow with the size of the sequence.
func TestAllocationsPerMemberFlat(t *testing.T) {
	perMember := func(n int) float64 {
		s := benchSnapshot(n)
		return testing.AllocsPerRun(3, func() { Decide(s, benchOpts, at(time.Minute)) }) / float64(n)
	}
	small, large := perMember(100), perMember(1000)
	if large > 2*small {
		t.Errorf("allocations per member grow with size: %.1f at 100 members, %.1f at 1000", small, large)
	}
}

// TestBenchSnapshotDecides keeps the benchmarks honest: their decisions do what they claim.
func TestBenchSnapshotDecides(t *testing.T) {
	chain := Decide(benchChain(100), benchOpts, at(time.Minute))
	for _, mp := range chain.Members {
		if mp.Action != ActionNone || len(mp.Events) > 0 {
			t.Errorf("the chain plans %q with %d events for %s, want nothing", mp.Action, len(mp.Events), mp.Name)
		}
	}
	if len(chain.Members) != 1 || chain.Members[0].Name != "step-00050" {
		t.Errorf("the chain's plan has %d members, want the one in flight alone: the rest are quiet", len(chain.Members))
	}
	if diff := cmp.Diff(chain, Decide(summarised(benchChain(100), benchOpts), benchOpts, at(time.Minute))); diff != "" {
		t.Errorf("the summarised chain is decided otherwise (-read +summarised):\n%s", diff)
	}
	s := benchSnapshot(100)
	p := Decide(s, benchOpts, at(time.Minute))
	actions := map[ActionType]int{}
	for _, mp := range everyPlan(s, benchOpts, p) {
		actions[mp.Action]++
	}
	want := map[ActionType]int{ActionNone: 95, ActionRun: 4, ActionOpenGate: 1}
	for a, n := range want {
		if actions[a] != n {
			t.Errorf("benchmark plan has %d %q actions, want %d (all: %v)", actions[a], a, n, actions)
		}
	}
}
