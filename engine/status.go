package engine

import (
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Condition types on a CommandSequence. Succeeded follows Tekton: Unknown while the
// sequence assembles or runs (reason: the phase), True once it succeeded, False with the
// failure's reason. Assembled is True once every member was present and consistent.
const (
	ConditionAssembled = "Assembled"
	ConditionSucceeded = "Succeeded"
	reasonAssembled    = "Assembled"
)

// sequenceStatus is the CommandSequence status after this plan. A terminal status never
// changes; otherwise it is rebuilt from the members, keeping startedAt and the conditions'
// transition times.
func (d *decision) sequenceStatus() batonv1.CommandSequenceStatus {
	prev := d.snap.Sequence
	if d.frozen {
		st := *prev.DeepCopy()
		if st.Report == nil {
			st.Report = d.report(st.FailedMember)
		}
		return st
	}
	if d.n == 0 && prev != nil {
		return d.commandsDeleted(prev)
	}
	var st batonv1.CommandSequenceStatus
	var prevPhase batonv1.SequencePhase
	if prev != nil {
		st.ObservedGeneration, st.StartedAt = prev.ObservedGeneration, prev.StartedAt
		if sequenceOrdinal(prev.Phase) >= 0 {
			prevPhase = prev.Phase
		}
	}
	allTerminal := d.tally(&st)
	st.Phase = d.phase(allTerminal)
	if !CanTransitionSequence(prevPhase, st.Phase) {
		d.sequenceEvent(batonv1.ReasonIllegalTransition,
			fmt.Sprintf("sequence %q cannot go from %s to %s: refused", d.snap.Key, prevPhase, st.Phase))
		st.Phase = prevPhase
	}
	d.outcome(&st)
	// The last batch opened; sticky while a failure keeps every gate shut.
	if d.opened {
		st.CurrentBatch = &d.lastOpen
	}
	if st.CurrentBatch == nil && prev != nil {
		st.CurrentBatch = prev.CurrentBatch
	}
	if st.CurrentBatch == nil && d.started {
		// Started, its Running status never written (a cancel in its first second shuts
		// every gate): the batch it stopped is the last one whose gate had opened.
		st.CurrentBatch = d.stoppedBatch()
	}
	if st.StartedAt == nil && d.started && st.Phase != batonv1.SequenceAssembling {
		st.StartedAt = d.startedAt()
	}
	if st.Phase.Terminal() {
		st.CompletedAt = d.stamp
		st.Report = d.report(st.FailedMember)
	}
	st.Conditions = d.conditions(prev, &st)
	if st.Phase != prevPhase {
		d.phaseEvents(prevPhase, &st)
	}
	return st
}

// startedAt is when a sequence whose start was never written started: the earliest start
// (else completion) its members report, not before the last of them was created (a
// retry's copies carry their original's times), and not after this plan's stamp. A caller
// that writes Running late, with its progress, still records when the first gate opened,
// to the second. It reads every member, once: only a sequence whose Running status was
// never written asks.
func (d *decision) startedAt() *metav1.Time {
	var assembled time.Time
	for k := range d.n {
		if c := d.member(k).CreationTimestamp; c.After(assembled) {
			assembled = c
		}
	}
	assembled = assembled.Truncate(time.Second)
	first := d.stamp.Time
	for k := range d.n {
		m := d.member(k)
		if !gatePassed(m) {
			continue
		}
		at := m.Status.StartedAt
		if at == nil {
			at = m.Status.CompletedAt
		}
		if at != nil && !at.Time.Before(assembled) && at.Time.Before(first) {
			first = at.Time
		}
	}
	if first.Equal(d.stamp.Time) {
		return d.stamp
	}
	return &metav1.Time{Time: first.Truncate(time.Second)}
}

// stoppedBatch is the index of the last batch, in report order, with a member whose gate
// had opened; nil when none had. It reads every member, once: only a sequence whose
// Running status was never written asks.
func (d *decision) stoppedBatch() *int {
	for k := d.n - 1; k >= 0; k-- {
		if m := d.member(k); m.Index != nil && gatePassed(m) {
			idx := *m.Index
			return &idx
		}
	}
	return nil
}

// gatePassed reports whether m's status shows that its gate opened: it was made Ready,
// started, completed by its executor, or skipped by its condition (evaluated as the gate
// opens). Skips for another reason, and expiries, happen behind a shut gate too.
func gatePassed(m *Member) bool {
	if gateOpened(m) || m.Status.Started {
		return true
	}
	switch m.Status.Phase {
	case batonv1.CommandReady, batonv1.CommandRunning, batonv1.CommandSucceeded, batonv1.CommandFailed:
		return true
	case batonv1.CommandSkipped:
		return m.Status.Error != nil && m.Status.Error.Reason == batonv1.ReasonConditionFalse
	}
	return false
}

// commandsDeleted is the status of an unfinished sequence whose commands all vanished: it
// fails with CommandsDeleted, and its report keeps what the counters knew, by phase. One
// whose status was never written (its members vanished within its first progress
// interval) fails too: its CommandSequence exists because a member was seen.
func (d *decision) commandsDeleted(prev *batonv1.CommandSequenceStatus) batonv1.CommandSequenceStatus {
	st := *prev.DeepCopy()
	if st.Phase.Terminal() || st.Counts.Total == 0 && st.Phase != "" {
		return st // finished, or never saw a command: nothing to say
	}
	from := st.Phase
	st.Phase, st.Reason, st.CompletedAt = batonv1.SequenceFailed, batonv1.ReasonCommandsDeleted, d.stamp
	st.Message = fmt.Sprintf("every command of sequence %q was deleted before it finished (%s finished)",
		d.snap.Key, st.Progress)
	if st.Progress == "" {
		st.Message = fmt.Sprintf("every command of sequence %q was deleted before its status was first written", d.snap.Key)
	}
	c := st.Counts
	omitted := map[batonv1.CommandPhase]int32{
		batonv1.CommandSucceeded: c.Succeeded, batonv1.CommandFailed: c.Failed,
		batonv1.CommandExpired: c.Expired, batonv1.CommandSkipped: c.Skipped,
		batonv1.CommandPending: c.Total - c.Succeeded - c.Failed - c.Expired - c.Skipped,
	}
	for phase, n := range omitted {
		if n <= 0 {
			delete(omitted, phase)
		}
	}
	st.Report = &batonv1.SequenceReport{Members: []batonv1.ReportMember{}, Omitted: omitted}
	// Assembled stays as it was; Succeeded turns False.
	succeeded := metav1.Condition{Type: ConditionSucceeded, Status: metav1.ConditionFalse,
		Reason: batonv1.ReasonCommandsDeleted, Message: st.Message, ObservedGeneration: st.ObservedGeneration,
		LastTransitionTime: *d.stamp}
	st.Conditions = append(slices.DeleteFunc(st.Conditions, func(c metav1.Condition) bool {
		return c.Type == ConditionSucceeded
	}), succeeded)
	if CanTransitionSequence(from, st.Phase) {
		d.phaseEvents(from, &st)
	}
	return st
}

// tally fills counts and progress ("finished/commandCount") and reports whether every
// member is terminal. The quiet batches were counted as the walk passed them.
func (d *decision) tally(st *batonv1.CommandSequenceStatus) bool {
	t := d.quietTally
	for _, seg := range d.segments {
		for i := range seg.states {
			t.add(seg.states[i].plan.Phase)
		}
	}
	st.Counts = t.counts
	st.Counts.Total = clampInt32(d.count)
	st.Progress = fmt.Sprintf("%d/%d", t.finished, d.count)
	return t.finished == d.n
}

// tallied counts finished members by phase.
type tallied struct {
	counts   batonv1.SequenceCounts
	finished int
}

func (t *tallied) add(phase batonv1.CommandPhase) { t.addN(phase, 1) }

// remove takes back what add counted.
func (t *tallied) remove(phase batonv1.CommandPhase) { t.addN(phase, -1) }

func (t *tallied) addN(phase batonv1.CommandPhase, n int32) {
	switch phase {
	case batonv1.CommandSucceeded:
		t.counts.Succeeded += n
	case batonv1.CommandFailed:
		t.counts.Failed += n
	case batonv1.CommandExpired:
		t.counts.Expired += n
	case batonv1.CommandSkipped:
		t.counts.Skipped += n
	default:
		return
	}
	t.finished += int(n)
}

func (t *tallied) merge(o tallied) {
	t.counts.Succeeded += o.counts.Succeeded
	t.counts.Failed += o.counts.Failed
	t.counts.Expired += o.counts.Expired
	t.counts.Skipped += o.counts.Skipped
	t.finished += o.finished
}

// phase: terminal once every member is (and the sequence started or broke), Failed when a
// member's failure blocked or the assembly broke; Running once started; else Assembling.
func (d *decision) phase(allTerminal bool) batonv1.SequencePhase {
	switch {
	case d.n > 0 && allTerminal && (d.started || d.failure != nil):
		if d.failure != nil || d.culprit != nil {
			return batonv1.SequenceFailed
		}
		return batonv1.SequenceSucceeded
	case d.started:
		return batonv1.SequenceRunning
	}
	return batonv1.SequenceAssembling
}

// outcome fills reason, message and failedMember.
func (d *decision) outcome(st *batonv1.CommandSequenceStatus) {
	switch {
	case d.failure != nil:
		st.FailedMember = d.failure.member
		st.Message = d.failure.message
		if st.Phase == batonv1.SequenceRunning || st.Phase == batonv1.SequenceAssembling {
			st.Message += "; waiting for the commands already started to finish"
		}
	case d.culprit != nil:
		c := d.culprit
		st.FailedMember = c.m.Name
		st.Message = fmt.Sprintf("command %s %s (%s)", c.m.Name, verb(c.plan.Phase), reasonOf(c))
		if e := c.plan.Status.Error; e != nil && e.Message != "" {
			st.Message += ": " + e.Message
		}
		if !st.Phase.Terminal() {
			st.Message += "; waiting for the commands already started to finish"
		}
	case st.Phase == batonv1.SequenceSucceeded:
		st.Message = fmt.Sprintf("all %d commands finished", d.n)
	case st.Phase == batonv1.SequenceRunning && d.opened:
		st.Message = fmt.Sprintf("batch %d running: %s commands finished", d.lastOpen, st.Progress)
	case st.Phase == batonv1.SequenceRunning:
		st.Message = fmt.Sprintf("running: %s commands finished", st.Progress)
	default:
		st.Message = fmt.Sprintf("waiting for commands: %d of %d present", d.n, d.count)
	}
	st.Message = ClipMessage(st.Message)
	if st.Phase == batonv1.SequenceFailed {
		st.Reason = d.failureReason()
	}
}

func (d *decision) failureReason() string {
	switch {
	case d.failure != nil:
		return d.failure.reason
	case d.culprit != nil:
		return reasonOf(d.culprit)
	}
	return string(batonv1.SequenceFailed)
}

// conditions computes Assembled and Succeeded; a condition keeps its transition time while
// its status stays the same.
func (d *decision) conditions(prev *batonv1.CommandSequenceStatus, st *batonv1.CommandSequenceStatus) []metav1.Condition {
	assembled := metav1.Condition{Type: ConditionAssembled}
	switch {
	case d.failure != nil && d.failure.assembly:
		assembled.Status, assembled.Reason = metav1.ConditionFalse, conditionReason(d.failure.reason)
		assembled.Message = ClipMessage(d.failure.message)
	case d.started:
		assembled.Status, assembled.Reason = metav1.ConditionTrue, reasonAssembled
		assembled.Message = fmt.Sprintf("all %d commands present", d.count)
	default:
		assembled.Status, assembled.Reason = metav1.ConditionFalse, string(batonv1.SequenceAssembling)
		assembled.Message = fmt.Sprintf("%d of %d commands present", d.n, d.count)
	}
	succeeded := metav1.Condition{Type: ConditionSucceeded, Message: st.Message}
	switch st.Phase {
	case batonv1.SequenceSucceeded:
		succeeded.Status, succeeded.Reason = metav1.ConditionTrue, string(batonv1.SequenceSucceeded)
	case batonv1.SequenceFailed:
		succeeded.Status, succeeded.Reason = metav1.ConditionFalse, conditionReason(st.Reason)
	default:
		succeeded.Status, succeeded.Reason = metav1.ConditionUnknown, string(st.Phase)
	}
	out := []metav1.Condition{assembled, succeeded}
	for i := range out {
		out[i].ObservedGeneration = st.ObservedGeneration
		out[i].LastTransitionTime = *d.stamp
		if prev == nil {
			continue
		}
		for _, p := range prev.Conditions {
			if p.Type == out[i].Type && p.Status == out[i].Status {
				out[i].LastTransitionTime = p.LastTransitionTime
			}
		}
	}
	return out
}

// phaseEvents records a sequence's phase change from prev to st.Phase: one Normal event
// when it starts running and one when it ends, the reason its phase. A sequence whose
// Running status was never written (the caller coalesces it) starts and ends in one
// status: both, in that order. One that never started (its assembly broke) only ends.
func (d *decision) phaseEvents(prev batonv1.SequencePhase, st *batonv1.CommandSequenceStatus) {
	startedNow := (prev == "" || prev == batonv1.SequenceAssembling) && st.StartedAt != nil
	if st.Phase == batonv1.SequenceRunning || st.Phase.Terminal() && startedNow {
		d.phaseEvent(batonv1.EventSequenceRunning, fmt.Sprintf("started: all %d commands present", d.count))
	}
	if st.Phase.Terminal() {
		d.phaseEvent(batonv1.EventReason(st.Phase), endMessage(st))
	}
}

func (d *decision) phaseEvent(reason batonv1.EventReason, message string) {
	d.events = append(d.events, Event{Reason: reason, Message: ClipMessage(message), PhaseChange: true})
}

// endMessage is the message of a sequence's end event: the summary "k/n succeeded in 12s"
// (with the members that finished otherwise: skipped by their condition, or failed with
// continue-on-failure), or, for a failure, the status message, which names the member that
// failed it.
func endMessage(st *batonv1.CommandSequenceStatus) string {
	if st.Phase == batonv1.SequenceFailed {
		return st.Message
	}
	c := st.Counts
	msg := fmt.Sprintf("%d/%d succeeded", c.Succeeded, c.Total)
	for _, n := range []struct {
		count int32
		what  string
	}{{c.Failed, "failed"}, {c.Expired, "expired"}, {c.Skipped, "skipped"}} {
		if n.count > 0 {
			msg += fmt.Sprintf(", %d %s", n.count, n.what)
		}
	}
	if st.StartedAt != nil && st.CompletedAt != nil {
		msg += " in " + st.CompletedAt.Sub(st.StartedAt.Time).String()
	}
	return msg
}

// conditionReason keeps a reason the API server accepts in a condition (an executor may
// report any string); anything else reads as Failed.
func conditionReason(r string) string {
	if len(r) == 0 || len(r) > 1024 {
		return string(batonv1.SequenceFailed)
	}
	for i, c := range r {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9' || c == '_'
		last := i == len(r)-1
		switch {
		case i == 0 && !letter,
			!letter && !digit && (c != ',' && c != ':' || last):
			return string(batonv1.SequenceFailed)
		}
	}
	return r
}

func clampInt32(n int) int32 {
	const maxInt32 = 1<<31 - 1
	switch {
	case n > maxInt32:
		return maxInt32
	case n < -maxInt32:
		return -maxInt32
	}
	return int32(n)
}
