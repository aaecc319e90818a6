package engine

import (
	"slices"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Roster is one sequence's members in report order, kept as they arrive and change, with
// what Decide may take from it instead of reading every member: whether the membership is
// consistent, the settled batches that lead the sequence and the waiting ones that trail
// it. Each change costs the members it touches; a decision given the roster's Summary
// costs the batches between the two, where something happens: on a long chain, one or
// two. Without it, every decision reads every member, and on a 10,000-step chain that
// reading (a cache miss a member) was half of the manager's CPU.
//
// A Roster is not safe for concurrent use. The slice Members returns is the roster's own:
// clone it before a change its reader must not see.
type Roster struct {
	opts    Options // what deadlines are computed with
	members []*Member
	// soonest[i] is the earliest deadline among members[i:] (zero: none), so that the
	// earliest deadline of any trailing run is one read.
	soonest []time.Time

	// What the membership check needs: members by commandCount, and those without a count
	// or an index.
	byCount          map[int]int
	noCount, noIndex int

	// members[:settled] are settled (settledMember), counted in settledTally.
	settled      int
	settledTally tallied
	// members[waiting:] wait for their in-process handler (waitsForHandler).
	waiting int
}

// NewRoster returns an empty roster for a sequence decided with opts.
func NewRoster(opts Options) *Roster {
	return &Roster{opts: opts, byCount: map[int]int{}}
}

// Members are the roster's members in report order: shared, read-only.
func (r *Roster) Members() []*Member { return r.members }

// Insert files m at position i, which must keep the members in report order.
func (r *Roster) Insert(i int, m *Member) {
	r.members = slices.Insert(r.members, i, m)
	r.soonest = slices.Insert(r.soonest, i, time.Time{})
	r.countMembership(m, 1)
	switch {
	case i >= r.settled:
	case settledMember(m):
		r.settled++
		r.settledTally.add(m.Status.Phase)
	default:
		r.recountSettled(i)
	}
	if i < r.waiting {
		r.waiting++
	} else if !waitsForHandler(m) {
		r.waiting = i + 1
	}
	r.changed(i)
}

// Set replaces the member at position i with m, a newer view of the same command.
func (r *Roster) Set(i int, m *Member) {
	old := r.members[i]
	r.members[i] = m
	r.countMembership(old, -1)
	r.countMembership(m, 1)
	if i < r.settled {
		if settledMember(m) {
			r.settledTally.remove(old.Status.Phase)
			r.settledTally.add(m.Status.Phase)
		} else {
			r.recountSettled(i)
		}
	}
	if i >= r.waiting && !waitsForHandler(m) {
		r.waiting = i + 1
	}
	r.changed(i)
}

// Delete removes the member at position i.
func (r *Roster) Delete(i int) {
	old := r.members[i]
	r.members = slices.Delete(r.members, i, i+1)
	r.soonest = slices.Delete(r.soonest, i, i+1)
	r.countMembership(old, -1)
	if i < r.settled {
		r.settled--
		r.settledTally.remove(old.Status.Phase)
	}
	if i < r.waiting {
		r.waiting--
	}
	r.changed(i - 1)
}

func (r *Roster) countMembership(m *Member, n int) {
	if m.Count == nil {
		r.noCount += n
	} else if r.byCount[*m.Count] += n; r.byCount[*m.Count] == 0 {
		delete(r.byCount, *m.Count)
	}
	if m.Index == nil {
		r.noIndex += n
	}
}

// recountSettled cuts the settled run at i, a member that is no longer settled: a terminal
// record that changed (an illegal report), or a member filed inside the run.
func (r *Roster) recountSettled(i int) {
	r.settled = i
	r.settledTally = tallied{}
	for _, m := range r.members[:i] {
		r.settledTally.add(m.Status.Phase)
	}
}

// changed extends both runs past what a change at position i may have let in, and brings
// the earliest deadlines up to date from i down.
func (r *Roster) changed(i int) {
	for r.settled < len(r.members) && settledMember(r.members[r.settled]) {
		r.settledTally.add(r.members[r.settled].Status.Phase)
		r.settled++
	}
	for r.waiting > 0 && waitsForHandler(r.members[r.waiting-1]) {
		r.waiting--
	}
	for j := min(i, len(r.members)-1); j >= 0; j-- {
		_, soonest := deadline(r.members[j], r.opts)
		if j+1 < len(r.members) {
			soonest = earliest(soonest, r.soonest[j+1])
		}
		if j < i && soonest.Equal(r.soonest[j]) {
			break // and so is every one before it
		}
		r.soonest[j] = soonest
	}
}

// Summary is what the roster knows of its members now, for one decision.
func (r *Roster) Summary() *Summary {
	n := len(r.members)
	s := &Summary{
		n:          n,
		consistent: r.noCount == 0 && r.noIndex == 0 && len(r.byCount) == 1,
		settled:    r.settled,
		tally:      r.settledTally,
	}
	// Whole batches only: a batch partly settled is decided member by member.
	for s.settled > 0 && s.settled < n && sameBatch(r.members[s.settled-1], r.members[s.settled]) {
		s.settled--
		s.tally.remove(r.members[s.settled].Status.Phase)
	}
	from := r.waiting
	for i := range s.waiting {
		for from > 0 && from < n && sameBatch(r.members[from-1], r.members[from]) {
			from++
		}
		s.waiting[i] = waitingRun{from: from}
		if from < n {
			s.waiting[i].until = r.soonest[from]
		}
		from++
	}
	return s
}

// Summary is what a Roster knew of its members when asked. Decide trusts it for a
// snapshot whose Members are that roster's, in its order (copies with InFlight or Held
// set included), decided with the Options the roster was made with.
type Summary struct {
	n          int  // members summarised: a snapshot with another number is read in full
	consistent bool // every member has a commandIndex and the same commandCount
	// settled is where the settled batches that lead the sequence end, tally their count.
	settled int
	tally   tallied
	// waiting are the first two batch starts of the run of members that trail the sequence
	// and wait for their in-process handler: one may be the batch a plan opens, the other
	// the first it keeps shut.
	waiting [2]waitingRun
}

// waitingRun says that every member from position from on waits for its handler; until is
// the earliest of their deadlines (zero: none).
type waitingRun struct {
	from  int
	until time.Time
}

// waitsForHandler reports whether m waits in Pending for an in-process handler: not
// started, not completed. Behind a shut gate, with its TTL ahead, nothing is written to
// it.
func waitsForHandler(m *Member) bool {
	st := &m.Status
	return m.HasHandler && !st.Started && !st.Completed &&
		(st.Phase == "" || st.Phase == batonv1.CommandPending)
}
