package engine

import (
	"fmt"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// observeMember reads the member at snapshot position pos: its TTL, recorded and observed
// phases, whether its external gate is already open, and the plan that does nothing.
func (d *decision) observeMember(m *Member, pos int) memberState {
	ms := memberState{m: m}
	ms.ttl, ms.deadline = deadline(m, d.opts)
	ms.recorded, ms.observed, ms.illegal = observe(&m.Status)
	ms.gateOpen = gateOpened(m)
	ms.plan = MemberPlan{Name: m.Name, Member: pos, Status: &m.Status, Phase: ms.observed, Deadline: ms.deadline}
	return ms
}

// gateOpened reports whether m is an external command already carrying
// kubescape.io/gate=open.
func gateOpened(m *Member) bool {
	return !m.HasHandler && m.Labels[batonv1.LabelGate] == batonv1.GateOpen
}

// observe maps a status to phases. status.phase is baton's record of the state machine;
// started, completed and error are what the executor reports. The record wins once
// terminal: a terminal record whose completed flag went false again (a completed command
// reported started again, or reset) is an illegal transition, refused.
func observe(st *batonv1.OperatorCommandStatus) (recorded, observed batonv1.CommandPhase, illegal bool) {
	recorded = st.Phase
	if !knownPhase(recorded) {
		recorded = batonv1.CommandPending
	}
	switch {
	case recorded.Terminal():
		return recorded, recorded, !st.Completed
	case st.Completed:
		observed = completedPhase(st.Error)
	case st.Started:
		observed = batonv1.CommandRunning
	default:
		observed = recorded
	}
	if !CanTransition(recorded, observed) {
		return recorded, recorded, true
	}
	return recorded, observed, false
}

// completedPhase reads a completion: no error is success; an error is a failure unless its
// reason says expired or skipped.
func completedPhase(e *batonv1.OperatorCommandStatusError) batonv1.CommandPhase {
	if e == nil {
		return batonv1.CommandSucceeded
	}
	switch e.Reason {
	case batonv1.ReasonExpired:
		return batonv1.CommandExpired
	case batonv1.ReasonPredecessorFailed, batonv1.ReasonConditionFalse:
		return batonv1.CommandSkipped
	}
	return batonv1.CommandFailed
}

// recordCompletion writes the phase an executor's completion implies.
func (d *decision) recordCompletion(ms *memberState) {
	st := ms.m.Status
	st.Phase = ms.observed
	st.Message = msgCompleted(&st)
	ms.plan.Action = ActionSetStatus
	ms.plan.Status = &st
	ms.plan.Phase = ms.observed
	ev := Event{Reason: batonv1.EventReason(ms.observed), Message: st.Message}
	if ms.observed != batonv1.CommandSucceeded {
		ev.Warning = ms.observed != batonv1.CommandSkipped
		if st.Error != nil && st.Error.Reason != "" {
			ev.Reason = batonv1.EventReason(st.Error.Reason)
		}
	}
	ms.plan.Events = append(ms.plan.Events, ev)
}

// restore refuses an illegal observed transition: it rewrites the recorded terminal
// status (completed again) and warns on the command and the sequence.
func (d *decision) restore(ms *memberState) {
	st := ms.m.Status
	st.Phase = ms.recorded
	st.Completed = true
	prior := d.reported(ms.m.Name)
	if st.CompletedAt == nil {
		st.CompletedAt = d.stamp
		if prior != nil && prior.CompletedAt != nil {
			st.CompletedAt = prior.CompletedAt
		}
	}
	if ms.recorded != batonv1.CommandSucceeded && st.Error == nil {
		st.Error = &batonv1.OperatorCommandStatusError{Reason: string(ms.recorded)}
		if prior != nil && prior.Error != nil {
			st.Error = prior.Error
		}
	}
	ms.plan.Action = ActionSetStatus
	ms.plan.Status = &st
	ms.plan.Phase = ms.recorded
	msg := fmt.Sprintf("command %s reported started=%t completed=false after it was %s: refused, status restored",
		ms.m.Name, ms.m.Status.Started, ms.recorded)
	ev := Event{Warning: true, Reason: batonv1.ReasonIllegalTransition, Message: ClipMessage(msg)}
	ms.plan.Events = append(ms.plan.Events, ev)
	d.events = append(d.events, ev)
}

// reported is the member's line in the recorded report, if the sequence has one.
func (d *decision) reported(name string) *batonv1.ReportMember {
	seq := d.snap.Sequence
	if seq == nil || seq.Report == nil {
		return nil
	}
	if d.reportIndex == nil {
		d.reportIndex = make(map[string]int, len(seq.Report.Members))
		for i := len(seq.Report.Members) - 1; i >= 0; i-- {
			d.reportIndex[seq.Report.Members[i].Name] = i
		}
	}
	if i, ok := d.reportIndex[name]; ok {
		return &seq.Report.Members[i]
	}
	return nil
}
