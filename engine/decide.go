package engine

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Decide returns what to do with one sequence at instant now. It is pure: it reads only its
// arguments, never the clock, never panics, and returns the same plan for the same input.
// Applying the plan (statuses, gate labels, claims) and deciding again at the same instant
// yields no further action. See the package documentation for the rules.
func Decide(s Snapshot, opts Options, now time.Time) Plan {
	return decide(s, opts, now, true)
}

// decide is Decide. With quiet false it decides every member one by one, quiet batches
// included: the reference against which the tests show that leaving them out changes
// nothing.
func decide(s Snapshot, opts Options, now time.Time, quiet bool) Plan {
	if !quiet {
		s.Summary = nil
	}
	d := newDecision(&s, opts, now)
	d.quiet = quiet
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

	// order is the snapshot's positions in report order, (index, name); nil when the
	// members are in that order already.
	order []int
	n     int // members
	// membership is what assembly checks, gathered with the order.
	membership membership
	// segments are the members walked so far, in report order: quiet runs and batches
	// decided member by member.
	segments []segment
	quiet    bool // quiet batches are left out of the plan (Decide); false only in tests
	// summary is the snapshot's, when it summarises these members (never in the reference).
	summary *Summary
	// quietTally counts the settled members of quiet batches; waiting ones are unfinished.
	quietTally tallied

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
	// lastOpen is the index of the highest batch whose gate is open, when opened is true.
	lastOpen int
	opened   bool

	env    *Env
	envSeg int // segments [0, envSeg) are in env

	reportIndex map[string]int // recorded report lines by name, built on first use

	events []Event
	wake   time.Time
}

// segment is a run of members in report order, members [lo, hi). A batch with a member
// the plan may change is decided member by member, and its states are kept. A run of
// quiet batches keeps none (states nil): every member is one no plan changes, as
// observed, and a long sequence costs a plan only for the batches where something
// happens.
type segment struct {
	lo, hi int
	states []memberState // one per member, for a decided batch
}

// memberState is one member as observed and as planned.
type memberState struct {
	m        *Member
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
	plan     MemberPlan // this member's entry in the plan
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
		n:     len(s.Members),
	}
	// A roster's consistent membership needs no pass. Else one pass confirms the order and
	// gathers the membership: a caller that keeps its members sorted (the controller does)
	// pays no sort and no second pass.
	sum := s.Summary
	if sum != nil && sum.n == d.n && sum.consistent {
		d.summary, d.membership = sum, membership{first: s.Members[0]}
		return d
	}
	var sorted bool
	if d.membership, sorted = survey(s.Members); !sorted {
		d.order = inReportOrder(s.Members)
		d.membership, _ = survey(d.inOrder())
	} else if sum != nil && sum.n == d.n {
		d.summary = sum
	}
	return d
}

// walk decides every member, batch by batch in ascending order, so that what this plan
// does to batch k (a skip, a failure, an expiry) already counts for batch k+1: one plan
// carries every consequence of the current instant.
func (d *decision) walk() {
	open := d.failure == nil && (d.assembled || d.started)
	for lo := d.settledLead(open); lo < d.n; {
		if d.waitingTail(lo, open) {
			return
		}
		hi, quiet, passed := d.scanBatch(lo, open)
		if quiet {
			d.addQuiet(lo, hi)
		} else {
			passed = d.decideBatch(lo, hi, open)
		}
		if idx := d.member(lo).Index; open && idx != nil {
			d.lastOpen, d.opened = *idx, true
		}
		open = open && passed
		lo = hi
	}
}

// decideBatch decides each member of batch [lo, hi) and reports whether the batch passed.
func (d *decision) decideBatch(lo, hi int, open bool) bool {
	states := make([]memberState, hi-lo)
	for k := lo; k < hi; k++ {
		states[k-lo] = d.observeMember(d.member(k), d.position(k))
	}
	d.segments = append(d.segments, segment{lo: lo, hi: hi, states: states})
	culprit := d.culprit
	for i := range states {
		d.decideMember(&states[i], open, culprit)
	}
	passed := true
	for i := range states {
		ms := &states[i]
		if passes(ms) {
			continue
		}
		passed = false
		if d.culprit == nil && ms.plan.Phase.Terminal() {
			d.culprit = ms
		}
	}
	return passed
}

// states is every member's state in report order: the decided ones as decided, the quiet
// ones as observed, with the plan that does nothing.
func (d *decision) states() []*memberState {
	out := make([]*memberState, 0, d.n)
	for si := range d.segments {
		seg := &d.segments[si]
		if seg.states != nil {
			for i := range seg.states {
				out = append(out, &seg.states[i])
			}
			continue
		}
		quiet := make([]memberState, seg.hi-seg.lo)
		for k := seg.lo; k < seg.hi; k++ {
			ms := &quiet[k-seg.lo]
			*ms = d.observeMember(d.member(k), d.position(k))
			out = append(out, ms)
		}
	}
	return out
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
		Reason:  batonv1.EventReason(reason),
		Message: message,
	})
}

func (d *decision) wakeAt(t time.Time) {
	if t.After(d.now) {
		d.wake = earliest(d.wake, t)
	}
}

// sequenceEvent records a Warning on the sequence.
func (d *decision) sequenceEvent(reason batonv1.EventReason, message string) {
	d.events = append(d.events, Event{Warning: true, Reason: reason, Message: ClipMessage(message)})
}

// memberPlans are the plans of the members decided one by one, in report order.
func (d *decision) memberPlans() []MemberPlan {
	n := 0
	for _, seg := range d.segments {
		n += len(seg.states)
	}
	if n == 0 {
		return nil
	}
	out := make([]MemberPlan, 0, n)
	for _, seg := range d.segments {
		for i := range seg.states {
			out = append(out, seg.states[i].plan)
		}
	}
	return out
}

// envFor is the Env of a member of the batch being decided (the last segment), built from
// this plan's view of the earlier batches. Gates open in ascending order and only open
// batches ask, so each batch is added once: O(members) per plan, however many conditions
// and handlers.
func (d *decision) envFor(ms *memberState) Env {
	if d.env == nil {
		// Sized for the earlier batches: growing maps of large values is most of the cost.
		earlier := d.segments[len(d.segments)-1].lo
		e := Env{
			Steps:    make(map[string]StepView, 2*earlier),
			Batches:  make(map[int][]StepView, earlier),
			Sequence: sequenceView(d.snap, d.count),
		}
		d.env = &e
	}
	for ; d.envSeg < len(d.segments)-1; d.envSeg++ {
		seg := &d.segments[d.envSeg]
		for lo := seg.lo; lo < seg.hi; {
			hi := d.batchEnd(lo)
			views := make([]StepView, 0, hi-lo)
			for k := lo; k < hi; k++ {
				views = append(views, d.stepView(seg, k))
			}
			if idx := d.member(lo).Index; idx != nil {
				d.env.addBatch(*idx, views)
			} else {
				for _, v := range views {
					d.env.Steps[v.Name] = v
				}
			}
			lo = hi
		}
	}
	e := *d.env
	e.Args = ms.m.Args
	return e
}

// stepView is the k-th member of seg as this plan leaves it.
func (d *decision) stepView(seg *segment, k int) StepView {
	if seg.states != nil {
		o := &seg.states[k-seg.lo]
		return stepView(o.m, o.plan.Status, o.plan.Phase)
	}
	m := d.member(k)
	_, phase, _ := observe(&m.Status)
	return stepView(m, &m.Status, phase)
}
