package v1alpha1

// EventReason is the reason of a Kubernetes Event baton records (DESIGN.md section 5). A
// Warning on a command carries the reason of its failure (the Reason constants, or an
// executor's own error.reason); the reasons below are those of its Normal events.
type EventReason string

// Normal events on a command, recorded as --command-events allows: EventsAll records
// Ready and Started; outcomes and all record GateOpened and one event per terminal outcome
// (Succeeded, or the Skipped reason).
const (
	// EventReady: the command's gate opened; it waits for its executor or a free slot.
	EventReady EventReason = "Ready"
	// EventStarted: an in-process handler started (its claim was written).
	EventStarted EventReason = "Started"
	// EventGateOpened: an external command's gate-opening labels were added.
	EventGateOpened EventReason = "GateOpened"
	// EventSucceeded: the command succeeded.
	EventSucceeded EventReason = "Succeeded"
)

// EventRetrying is the Warning of a failed attempt of an in-process handler that is
// retried (kubescape.io/retries).
const EventRetrying EventReason = "Retrying"

// Normal events on a CommandSequence, always recorded: one when it starts running, one
// when it ends, the reason its phase. A Failed sequence's end event is Normal too: the
// command that failed it carries the Warning.
const (
	EventSequenceRunning   = EventReason(SequenceRunning)
	EventSequenceSucceeded = EventReason(SequenceSucceeded)
	EventSequenceFailed    = EventReason(SequenceFailed)
)
