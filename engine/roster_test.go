package engine

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
