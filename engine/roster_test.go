package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// checkRoster keeps s's members in a roster as a caller would, through every change that
// turns s into next (the snapshot after its plan was applied) and then every deletion. At
// each step the roster's summary is the one made from its members from scratch, and a
// decision given the summary is the decision that reads every member. Shared with
// TestProperties and FuzzDecide.
func checkRoster(t testing.TB, s, next Snapshot, opts Options, now time.Time) {
	t.Helper()
	r := NewRoster(opts)
	check := func(what string) {
		t.Helper()
		members := slices.Clone(r.Members())
		if !slices.IsSortedFunc(members, CompareMembers) {
			t.Fatalf("after %s, the roster is out of report order", what)
		}
		// cmp only to explain a difference: thousands of cases make it the test's cost.
		want, kept := summaryOf(members, opts), r.Summary()
		if !reflect.DeepEqual(want, kept) {
			t.Fatalf("after %s, the roster's summary is not its members' (-from scratch +kept):\n%s", what,
				cmp.Diff(want, kept, cmp.AllowUnexported(Summary{}, tallied{}, waitingRun{})))
		}
		read := Snapshot{Namespace: s.Namespace, Key: s.Key, Members: members, Sequence: s.Sequence, Cancelled: s.Cancelled}
		summarised := read
		summarised.Summary = kept
		if p, q := Decide(read, opts, now), Decide(summarised, opts, now); !reflect.DeepEqual(p, q) {
			t.Fatalf("after %s, the summary changes the plan (-every member read +summarised):\n%s", what, cmp.Diff(p, q))
		}
	}
	at := func(m *Member) (int, bool) { return slices.BinarySearchFunc(r.Members(), m, CompareMembers) }
	for _, m := range s.Members {
		i, _ := at(m)
		r.Insert(i, m)
		check("inserting " + m.Name)
	}
	for k, m := range next.Members {
		i := slices.Index(r.Members(), s.Members[k])
		r.Set(i, m)
		check("changing " + m.Name)
	}
	for _, m := range next.Members {
		r.Delete(slices.Index(r.Members(), m))
		check("deleting " + m.Name)
	}
}

// summaryOf is the summary of members in report order, made from scratch.
func summaryOf(members []*Member, opts Options) *Summary {
	n := len(members)
	s := &Summary{n: n, consistent: n > 0}
	for _, m := range members {
		if m.Count == nil || m.Index == nil || members[0].Count == nil || *m.Count != *members[0].Count {
			s.consistent = false
		}
	}
	for s.settled < n && settledMember(members[s.settled]) {
		s.settled++
	}
	for s.settled > 0 && s.settled < n && sameBatch(members[s.settled-1], members[s.settled]) {
		s.settled--
	}
	for _, m := range members[:s.settled] {
		s.tally.add(m.Status.Phase)
	}
	from := n
	for from > 0 && waitsForHandler(members[from-1]) {
		from--
	}
	for i := range s.waiting {
		for from > 0 && from < n && sameBatch(members[from-1], members[from]) {
			from++
		}
		s.waiting[i].from = from
		for _, m := range members[min(from, n):] {
			_, dl := deadline(m, opts)
			s.waiting[i].until = earliest(s.waiting[i].until, dl)
		}
		from++
	}
	return s
}

// TestRosterLongSequence runs a roster through a long sequence's life, batch by batch: each
// member claimed, then finished (now and then failed, re-created, or after a finished one
// was filed again), with deadlines in no particular order, and checks its summary against
// one made from scratch after every change: the runs and the earliest deadlines of
// sequences far longer than the generated ones.
func TestRosterLongSequence(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	opts := Options{DefaultTTL: time.Hour}
	const n, width = 300, 3
	r := NewRoster(opts)
	members := make([]*Member, n)
	check := func(what string, k int) {
		t.Helper()
		if want, kept := summaryOf(r.Members(), opts), r.Summary(); !reflect.DeepEqual(want, kept) {
			t.Fatalf("after %s %d, the summary is not the members' (-from scratch +kept):\n%s", what, k,
				cmp.Diff(want, kept, cmp.AllowUnexported(Summary{}, tallied{}, waitingRun{})))
		}
	}
	for _, k := range rng.Perm(n) {
		w := MakeMember(fmt.Sprintf("m%03d", k)).Seq(k/width, n).Created(time.Duration(rng.IntN(600)) * time.Second)
		if rng.IntN(4) > 0 {
			w.TTL(time.Duration(1+rng.IntN(3600)) * time.Second)
		}
		members[k] = w.Obj()
		i, _ := slices.BinarySearchFunc(r.Members(), members[k], CompareMembers)
		r.Insert(i, members[k])
		check("filing", k)
	}
	set := func(k int, change func(*Member)) {
		m := *members[k]
		change(&m)
		r.Set(slices.Index(r.Members(), members[k]), &m)
		members[k] = &m
	}
	for k := range n {
		set(k, func(m *Member) { m.Status.Started, m.Status.Phase = true, batonv1.CommandRunning })
		check("claiming", k)
		switch rng.IntN(10) {
		case 0:
			set(k, func(m *Member) { m.Status.Completed, m.Status.Phase = true, batonv1.CommandFailed })
		case 2:
			// A finished member leaves and comes back as it was (a relist); then this one succeeds.
			if j := rng.IntN(k + 1); j < k {
				r.Delete(slices.Index(r.Members(), members[j]))
				check("deleting", j)
				i, _ := slices.BinarySearchFunc(r.Members(), members[j], CompareMembers)
				r.Insert(i, members[j])
				check("re-filing", j)
			}
			set(k, func(m *Member) { m.Status.Completed, m.Status.Phase = true, batonv1.CommandSucceeded })
		case 1:
			// Deleted and created again, waiting once more; then it succeeds.
			r.Delete(slices.Index(r.Members(), members[k]))
			check("deleting", k)
			m := *members[k]
			m.Status = batonv1.OperatorCommandStatus{}
			members[k] = &m
			i, _ := slices.BinarySearchFunc(r.Members(), members[k], CompareMembers)
			r.Insert(i, members[k])
			check("re-creating", k)
			fallthrough
		default:
			set(k, func(m *Member) { m.Status.Completed, m.Status.Phase = true, batonv1.CommandSucceeded })
		}
		check("finishing", k)
	}
}
