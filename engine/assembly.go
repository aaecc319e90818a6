package engine

import (
	"fmt"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// assemble decides whether gates may open: the membership is consistent, and either every
// member is present or the sequence already started. It sets failure when the sequence is
// broken, incomplete at its assembly deadline, or already finished.
func (d *decision) assemble() {
	d.checkMembership()
	d.started = d.assembled || d.startedBefore()
	if prev := d.snap.Sequence; prev != nil && prev.Phase.Terminal() {
		d.frozen = true
		if d.failure == nil {
			d.failure = lateFailure(prev)
		}
	}
	if d.failure == nil && !d.started {
		d.checkIncomplete()
	}
	if d.failure == nil && d.snap.Cancelled {
		d.failure = &failure{phase: batonv1.CommandSkipped, reason: batonv1.ReasonCancelled, message: msgCancelled}
	}
}

// membership is what checkMembership needs of the members, in report order.
type membership struct {
	first     *Member // the first member with a commandCount
	violation *Member // the first member without one, or with another than first's
	unindexed *Member // the first member without a commandIndex
}

// survey gathers the membership of members taken in the order given, and reports whether
// that order is report order (else the membership is of no use).
func survey(members []*Member) (membership, bool) {
	var ms membership
	for k, m := range members {
		if k > 0 && CompareMembers(members[k-1], m) > 0 {
			return ms, false
		}
		switch {
		case ms.violation != nil:
		case m.Count == nil:
			ms.violation = m
		case ms.first == nil:
			ms.first = m
		case *m.Count != *ms.first.Count:
			ms.violation = m
		}
		if m.Index == nil && ms.unindexed == nil {
			ms.unindexed = m
		}
	}
	return ms, true
}

// checkMembership checks the members against each other. A lone member without
// commandCount is a standalone command. Otherwise every member must carry the same
// positive commandCount and a commandIndex, and there may not be more members than the
// count. The first violation, in report order, is the failure.
func (d *decision) checkMembership() {
	n := d.n
	d.count = n
	if n == 0 {
		return
	}
	if n == 1 && d.member(0).Count == nil {
		d.standalone, d.count, d.assembled = true, 1, true
		return
	}
	first, bad := d.membership.first, d.membership.violation
	switch {
	case bad != nil && bad.Count == nil:
		d.fail(batonv1.ReasonInconsistentCount, bad.Name, fmt.Sprintf(
			"command %s has no commandCount but shares sequence key %q with %d other commands",
			bad.Name, d.snap.Key, n-1))
		return
	case bad != nil:
		d.fail(batonv1.ReasonInconsistentCount, bad.Name, fmt.Sprintf(
			"commands disagree on commandCount: %s has %d, %s has %d",
			first.Name, *first.Count, bad.Name, *bad.Count))
		return
	}
	c := *first.Count
	switch {
	case c < 1:
		d.fail(batonv1.ReasonInconsistentCount, first.Name, fmt.Sprintf(
			"commandCount %d is not a sequence size", c))
		return
	case n > c:
		d.fail(batonv1.ReasonTooManyCommands, "", fmt.Sprintf(
			"sequence %q has %d commands but commandCount is %d", d.snap.Key, n, c))
		return
	}
	if m := d.membership.unindexed; m != nil {
		d.fail(batonv1.ReasonMissingIndex, m.Name, fmt.Sprintf(
			"command %s has commandCount %d but no commandIndex", m.Name, c))
		return
	}
	d.count = c
	d.assembled = n == c
}

func (d *decision) fail(reason, member, message string) {
	d.failure = &failure{phase: batonv1.CommandFailed, reason: reason, member: member, message: message, assembly: true}
}

// startedBefore reports whether a gate was opened before: the recorded sequence says so,
// or a member's record shows baton moved it past Pending. A member deleted later does not
// send the sequence back to assembly.
func (d *decision) startedBefore() bool {
	if prev := d.snap.Sequence; prev != nil && prev.Phase != "" && prev.Phase != batonv1.SequenceAssembling &&
		sequenceOrdinal(prev.Phase) >= 0 {
		return true
	}
	for k := range d.n {
		m := d.member(k)
		if gateOpened(m) || m.Status.Phase == batonv1.CommandReady || m.Status.Phase == batonv1.CommandRunning {
			return true
		}
	}
	return false
}

// checkIncomplete fails a sequence still assembling at its assembly deadline: the earliest
// member TTL, or AssemblyTimeout after the earliest creation, whichever comes first.
func (d *decision) checkIncomplete() {
	var at time.Time
	var why string
	var earliest time.Time
	for k := range d.n {
		m := d.member(k)
		if _, dl := deadline(m, d.opts); !dl.IsZero() && (at.IsZero() || dl.Before(at)) {
			at, why = dl, "the TTL of command "+m.Name
		}
		if c := m.CreationTimestamp; k == 0 || c.Before(earliest) {
			earliest = c
		}
	}
	if t := d.opts.AssemblyTimeout; t > 0 && d.n > 0 {
		if limit := earliest.Add(t); at.IsZero() || limit.Before(at) {
			at, why = limit, fmt.Sprintf("the assembly timeout %s", t)
		}
	}
	if at.IsZero() {
		return
	}
	if d.now.Before(at) {
		d.wakeAt(at)
		return
	}
	d.fail(batonv1.ReasonIncomplete, "", fmt.Sprintf(
		"sequence %q has %d of %d commands at %s, when %s ended its assembly",
		d.snap.Key, d.n, d.count, formatTime(at), why))
}

// lateFailure completes a member that is still waiting when the sequence already ended (it
// arrived late, or was never decided): it inherits the sequence's assembly failure, is
// skipped after a failed member, or is one command too many for a finished sequence.
func lateFailure(prev *batonv1.CommandSequenceStatus) *failure {
	if prev.Phase == batonv1.SequenceFailed {
		switch prev.Reason {
		case batonv1.ReasonIncomplete, batonv1.ReasonInconsistentCount, batonv1.ReasonMissingIndex,
			batonv1.ReasonTooManyCommands:
			return &failure{phase: batonv1.CommandFailed, reason: prev.Reason,
				message: "sequence already failed: " + prev.Message, assembly: true}
		}
		return &failure{phase: batonv1.CommandSkipped, reason: batonv1.ReasonPredecessorFailed,
			message: fmt.Sprintf("sequence already failed: command %s failed (%s)", prev.FailedMember, prev.Reason)}
	}
	return &failure{phase: batonv1.CommandFailed, reason: batonv1.ReasonTooManyCommands,
		message: "command arrived after its sequence finished"}
}
