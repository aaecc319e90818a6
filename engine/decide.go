package engine

import (
	"cmp"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Decide returns what to do with one sequence at instant now. It is pure: it reads only its
// arguments, never the clock, never panics, and returns the same plan for the same input.
// Applying the plan (statuses, gate labels, claims) and deciding again at the same instant
// yields no further action. See the package documentation for the rules.
func Decide(s Snapshot, opts Options, now time.Time) Plan {
	d := newDecision(&s, opts, now)
	d.assemble()
	d.walk()
	status := d.sequenceStatus()
	return Plan{
		Status:   status,
		Members:  d.memberPlans(),
		Events:   d.events,
		NextWake: d.wake,
	}
}

// decision is the working state of one Decide call.
type decision struct {
	snap *Snapshot
	opts Options
	now  time.Time
	// stamp is now to the second, as the API server stores it; every time this plan writes
	// shares it.
	stamp *metav1.Time

	members []memberState // report order: (index, name)
	plans   []MemberPlan  // the plan's members, in the same order
	batches []batch       // ascending index

	standalone bool
	count      int  // the agreed commandCount (1 for a standalone command)
	assembled  bool // every member present and consistent
	started    bool // some gate was opened once: assembly is over for good
	frozen     bool // the recorded sequence phase is terminal
	// failure, when set, keeps every gate shut and completes every member no executor holds
	// (broken or incomplete assembly, a late member of a finished sequence).
	failure *failure
	// culprit is the first member, in batch order, whose failure blocks the batches after
	// it.
	culprit *memberState
	// lastOpen is the index of the highest batch whose gate is open.
	lastOpen *int

	cur    int // the batch being decided
	env    *Env
	envLen int // batches [0, envLen) are in env

	reportIndex map[string]int // recorded report lines by name, built on first use

	events []Event
	wake   time.Time
}

// memberState is one member as observed and as planned.
type memberState struct {
	m        *Member
	pos      int           // m's position in the snapshot's Members
	ttl      time.Duration // effective TTL, 0 for none
	deadline time.Time     // creation + ttl, zero for none
	// recorded is status.phase, baton's own record ("" and unknown read as Pending).
	recorded batonv1.CommandPhase
	// observed is what the status fields say now: completed → a terminal phase, started →
	// Running, else the recorded phase.
	observed batonv1.CommandPhase
	// illegal: the fields contradict a terminal record (completed reported false again).
	illegal bool
	// gateOpen: an external command already carrying kubescape.io/gate=open. Quiet.
	gateOpen bool
	plan     *MemberPlan // this member's entry in the plan
}

type batch struct {
	lo, hi   int // members[lo:hi]
	index    int
	hasIndex bool
}

// failure is a sequence-wide reason to complete every member still waiting for its gate.
type failure struct {
	phase   batonv1.CommandPhase
	reason  string
	message string
	member  string // the member to blame, if one
	// assembly is true when the membership itself is at fault (not Assembled).
	assembly bool
}

func newDecision(s *Snapshot, opts Options, now time.Time) *decision {
	d := &decision{
		snap:  s,
		opts:  opts,
		now:   now,
		stamp: &metav1.Time{Time: now.Truncate(time.Second)},
	}
	d.plans = make([]MemberPlan, len(s.Members))
	d.members = make([]memberState, len(s.Members))
	for k, i := range inReportOrder(s.Members) {
		d.members[k] = d.observeMember(s.Members[i])
		d.members[k].pos = i
		d.members[k].plan = &d.plans[k]
	}
	d.batches = make([]batch, 0, len(d.members))
	for lo := 0; lo < len(d.members); {
		hi := lo + 1
		for hi < len(d.members) && sameBatch(d.members[lo].m, d.members[hi].m) {
			hi++
		}
		b := batch{lo: lo, hi: hi}
		if idx := d.members[lo].m.Index; idx != nil {
			b.index, b.hasIndex = *idx, true
		}
		d.batches = append(d.batches, b)
		lo = hi
	}
	return d
}

// inReportOrder is the members' positions in report order. A caller that keeps its members
// sorted (the controller does) pays one pass to confirm it instead of a sort.
func inReportOrder(members []*Member) []int {
	order := make([]int, len(members))
	for i := range order {
		order[i] = i
	}
	if isReportOrder(members) {
		return order
	}
	// Sort positions, not members: a member is large. Positions break ties, so the order
	// is total and an unstable sort (several times faster than a stable one on a large
	// sequence) is deterministic.
	slices.SortFunc(order, func(a, b int) int {
		if c := CompareMembers(members[a], members[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return order
}

func isReportOrder(members []*Member) bool {
	for i := 1; i < len(members); i++ {
		if CompareMembers(members[i-1], members[i]) > 0 {
			return false
		}
	}
	return true
}

// CompareMembers is report order: members without an index first, then by index, then by
// name.
func CompareMembers(a, b *Member) int {
	switch {
	case a.Index == nil && b.Index != nil:
		return -1
	case a.Index != nil && b.Index == nil:
		return 1
	case a.Index != nil && b.Index != nil && *a.Index != *b.Index:
		return cmp.Compare(*a.Index, *b.Index)
	}
	return cmp.Compare(a.Name, b.Name)
}

func sameBatch(a, b *Member) bool {
	if a.Index == nil || b.Index == nil {
		return a.Index == nil && b.Index == nil
	}
	return *a.Index == *b.Index
}

// walk decides every member, batch by batch in ascending order, so that what this plan
// does to batch k (a skip, a failure, an expiry) already counts for batch k+1: one plan
// carries every consequence of the current instant.
func (d *decision) walk() {
	open := d.failure == nil && (d.assembled || d.started)
	for bi, b := range d.batches {
		d.cur = bi
		culprit := d.culprit
		for i := b.lo; i < b.hi; i++ {
			d.decideMember(&d.members[i], open, culprit)
		}
		if open && b.hasIndex {
			d.lastOpen = &d.batches[bi].index
		}
		passed := true
		for i := b.lo; i < b.hi; i++ {
			ms := &d.members[i]
			if passes(ms) {
				continue
			}
			passed = false
			if d.culprit == nil && ms.plan.Phase.Terminal() {
				d.culprit = ms
			}
		}
		open = open && passed
	}
}

// passes reports whether a member lets the next batch open: it succeeded, was skipped by
// its condition, or finished badly with kubescape.io/continue-on-failure "true".
func passes(ms *memberState) bool {
	switch ms.plan.Phase {
	case batonv1.CommandSucceeded:
		return true
	case batonv1.CommandSkipped:
		if e := ms.plan.Status.Error; e != nil && e.Reason == batonv1.ReasonConditionFalse {
			return true
		}
	}
	return ms.plan.Phase.Terminal() && continueOnFailure(ms.m)
}

func continueOnFailure(m *Member) bool {
	return m.Annotations[batonv1.AnnotationContinueOnFailure] == "true"
}

// decideMember applies the member rules in order of precedence; the first that holds
// decides.
func (d *decision) decideMember(ms *memberState, open bool, culprit *memberState) {
	*ms.plan = MemberPlan{
		Name:     ms.m.Name,
		Member:   ms.pos,
		Status:   &ms.m.Status,
		Phase:    ms.observed,
		Deadline: ms.deadline,
	}
	switch {
	case ms.recorded.Terminal():
		// Nothing terminal changes; a contradicting report is refused.
		if ms.illegal {
			d.restore(ms)
		}
		return
	case ms.observed.Terminal():
		d.recordCompletion(ms)
		return
	case d.failure != nil && !ms.gateOpen && skippable(ms):
		d.finish(ms, d.failure.phase, d.failure.reason, d.failure.message)
		return
	case !open && culprit != nil && !ms.gateOpen && skippable(ms) && !failedAt(culprit).After(ms.deadlineOrNow(d.now)):
		// Root cause wins: the predecessor's failure came first (or in the same instant).
		d.finish(ms, batonv1.CommandSkipped, batonv1.ReasonPredecessorFailed, msgPredecessorFailed(culprit))
		return
	case d.expired(ms):
		d.expire(ms)
		return
	case ms.gateOpen:
		// quiet after the gate: the executor's turn
	case !open:
		d.gateClosed(ms, culprit)
	case ms.m.HasHandler:
		d.decideInProcess(ms)
	default:
		d.decideExternal(ms)
	}
	if !ms.plan.Phase.Terminal() {
		d.wakeAt(ms.deadline)
	}
}

// decideInProcess handles an in-process member whose gate is open.
func (d *decision) decideInProcess(ms *memberState) {
	switch ms.observed {
	case batonv1.CommandPending, batonv1.CommandReady:
		if ms.m.Held {
			// Queued here for a slot (or claimed, the claim not yet seen): planned before.
			ms.plan.Phase = batonv1.CommandReady
			return
		}
		if ms.observed == batonv1.CommandPending && !d.conditionHolds(ms) {
			return
		}
		st := ms.m.Status
		st.Phase = batonv1.CommandReady
		st.Message = msgReadyInProcess
		d.run(ms, st)
	case batonv1.CommandRunning:
		if !ms.m.InFlight {
			d.executorLost(ms)
		}
	}
}

// run plans ActionRun: the caller claims the command and runs its handler until Deadline.
func (d *decision) run(ms *memberState, st batonv1.OperatorCommandStatus) {
	attempts, ok := d.maxAttempts(ms)
	if !ok {
		return
	}
	var env Env
	if ms.m.IgnoresSteps {
		env = Env{Args: ms.m.Args, Sequence: sequenceView(d.snap, d.count)}
	} else {
		env = d.envFor(ms)
	}
	ms.plan.Action = ActionRun
	ms.plan.Status = &st
	ms.plan.Phase = st.Phase
	ms.plan.MaxAttempts = attempts
	ms.plan.Env = &env
}

// executorLost handles a Running in-process member that no executor holds (a restart).
func (d *decision) executorLost(ms *memberState) {
	if !ms.m.Idempotent {
		d.finish(ms, batonv1.CommandFailed, batonv1.ReasonExecutorLost, msgExecutorLost(ms.m))
		return
	}
	attempts, ok := d.maxAttempts(ms)
	if !ok {
		return
	}
	if int64(ms.m.Status.Attempts) >= int64(attempts)+MaxExecutorLosses {
		d.finish(ms, batonv1.CommandFailed, batonv1.ReasonExecutorLost, msgExecutorLostAgain(ms.m))
		return
	}
	st := ms.m.Status
	st.Phase = batonv1.CommandRunning // as observed, should the record lag
	d.run(ms, st)
}

// finish completes a non-terminal member: status.completed true, error.reason reason.
func (d *decision) finish(ms *memberState, phase batonv1.CommandPhase, reason, message string) {
	if !CanTransition(ms.observed, phase) {
		return
	}
	message = ClipMessage(message)
	st := ms.m.Status
	st.Completed = true
	st.CompletedAt = d.stamp
	st.Phase = phase
	st.Error = &batonv1.OperatorCommandStatusError{Reason: reason, Message: message}
	st.Message = message
	ms.plan.Action = ActionSetStatus
	ms.plan.Status = &st
	ms.plan.Phase = phase
	ms.plan.Deadline = ms.deadline
	ms.plan.Events = append(ms.plan.Events, Event{
		Warning: phase != batonv1.CommandSkipped || reason == batonv1.ReasonPredecessorFailed,
		Reason:  reason,
		Message: message,
	})
}

func (d *decision) wakeAt(t time.Time) {
	if t.IsZero() || !t.After(d.now) {
		return
	}
	if d.wake.IsZero() || t.Before(d.wake) {
		d.wake = t
	}
}

func (d *decision) sequenceEvent(warning bool, reason, message string) {
	d.events = append(d.events, Event{Warning: warning, Reason: reason, Message: ClipMessage(message)})
}

func (d *decision) memberPlans() []MemberPlan {
	return d.plans
}

// envFor is the Env of a member of the batch being decided, built from this plan's view
// of the earlier batches. Gates open in ascending order and only open batches ask, so each
// batch is added once: O(members) per plan, however many conditions and handlers.
func (d *decision) envFor(ms *memberState) Env {
	if d.env == nil {
		// Sized for the earlier batches: growing maps of large values is most of the cost.
		e := Env{
			Steps:    make(map[string]StepView, d.batches[d.cur].lo+d.cur),
			Batches:  make(map[int][]StepView, d.cur),
			Sequence: sequenceView(d.snap, d.count),
		}
		d.env = &e
	}
	for ; d.envLen < d.cur; d.envLen++ {
		b := d.batches[d.envLen]
		views := make([]StepView, 0, b.hi-b.lo)
		for i := b.lo; i < b.hi; i++ {
			o := &d.members[i]
			views = append(views, stepView(o.m, o.plan.Status, o.plan.Phase))
		}
		if b.hasIndex {
			d.env.addBatch(b.index, views)
			continue
		}
		for _, v := range views {
			d.env.Steps[v.Name] = v
		}
	}
	e := *d.env
	e.Args = ms.m.Args
	return e
}
