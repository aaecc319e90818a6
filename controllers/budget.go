package controllers

import "time"

// The write budget (DESIGN.md 5b), counted at the API server, is kept by these rules:
//
//   - Nothing writes Pending: a missing phase reads as Pending.
//   - A quick idempotent in-process member costs one write: its claim and its result
//     together (quickstep.go). Any other in-process member is claimed as its gate opens
//     (Running, started, executer), and its result is the second write. Ready is written
//     only for a member that must wait for a free slot.
//   - An external member costs Ready, the gate-opening metadata patch, and the final phase
//     once its executor reports.
//   - A sequence's progress (counts, current batch, message) is written progressInterval
//     after it first differs from what is stored (trailing edge: every change within that
//     second goes into one write), and so are the Assembling it starts in and its change
//     to Running; only its final phase, and so the write with the report, at once,
//     carrying anything waiting. A sequence that ends within its first second costs its
//     create and its final write, nothing between (DESIGN.md 5).
//
// Events are writes too (DESIGN.md 5b counts them); events.go decides which are
// recorded: by default (--command-events=warnings) none on a command that succeeds, and
// two on a sequence, its start and its end, each recorded with the status write that
// shows it. The floor is one write a step plus a sequence's create, final write and two
// Events.

// progressInterval is the least time between two progress writes of one sequence.
const progressInterval = time.Second

// progressDue is when unit u's progress, found differing from what is stored at now, is to
// be written: progressInterval after it was first found differing. The sequence's next
// write (sequenceWriter) ends the wait.
func (s *units) progressDue(u unit, now time.Time) time.Time {
	var due time.Time
	s.with(u, func(st *unitState) {
		if st.progressSince.IsZero() {
			st.progressSince = now
		}
		due = st.progressSince.Add(progressInterval)
	})
	return due
}
