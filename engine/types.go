package engine

import (
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Options are the engine's knobs, set from the manager's flags.
type Options struct {
	// DefaultTTL applies to a command whose spec.ttl is 0. Zero means no TTL.
	DefaultTTL time.Duration
	// AssemblyTimeout bounds how long a sequence may wait for all its members, measured
	// from its earliest member's creation. Zero means only member TTLs bound assembly.
	AssemblyTimeout time.Duration
	// MaxPayloadBytes caps one member's payload; larger fails it with PayloadTooLarge (the
	// runner asks CheckPayload). Zero means DefaultMaxPayloadBytes.
	MaxPayloadBytes int64
	// ReportMaxBytes caps the whole report as the API server stores it (escaped characters
	// included), member lines included (see report). Zero means DefaultReportMaxBytes.
	ReportMaxBytes int64
	// ExternalMaxAge is the age past which an external executor ignores a command
	// (the Kubescape operator's 30 minutes). Zero turns the check off.
	ExternalMaxAge time.Duration
	// RetryBaseDelay and RetryMaxDelay shape the exponential backoff between attempts
	// (RetryDelay). Zero means DefaultRetryBaseDelay, DefaultRetryMaxDelay.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
}

// Snapshot is everything the engine knows about one sequence (or one standalone command).
type Snapshot struct {
	Namespace string
	// Key is the sequence key: the kubescape.io/sequence label or the members' spec.guid.
	Key string
	// Members are the commands sharing the key, in any order.
	Members []*Member
	// Sequence is the last written status of the CommandSequence, nil before the first.
	Sequence *batonv1.CommandSequenceStatus
	// Cancelled is true when the CommandSequence carries kubescape.io/cancel "true": members
	// no executor holds are Skipped with reason Cancelled, and the sequence fails with it.
	Cancelled bool
	// Summary, when set, is the Roster's that keeps Members, in its order: the decision
	// takes the batches it says are quiet from it instead of reading their members. Nil:
	// every member is read.
	Summary *Summary
}

// Member is one command as observed from the API server, plus what the caller knows about
// its executor. The fields every decision reads of every member come first, then the
// status: a long sequence's pass over its members reads few cache lines of each.
type Member struct {
	Index             *int
	Count             *int
	CreationTimestamp time.Time
	TTL               time.Duration

	// HasHandler is true when an in-process handler is registered for the type; otherwise
	// the command is external and baton only opens its gate.
	HasHandler bool
	// Idempotent is true when that handler may be re-run after its executor was lost.
	Idempotent bool
	// IgnoresSteps is true when that handler never reads the earlier steps: the Env of
	// its ActionRun carries only its args and the sequence, and costs nothing to build.
	IgnoresSteps bool
	// InFlight is true when this process is running the handler right now. A Running
	// in-process command that is not in flight lost its executor.
	InFlight bool
	// Held is true when this process holds the member: queued for a concurrency slot, or
	// in flight. A held member that has not started is not planned again.
	Held bool

	Status         batonv1.OperatorCommandStatus
	Name           string
	Labels         map[string]string
	Annotations    map[string]string
	CommandType    string
	CommandVersion string
	Args           map[string]any
}

// Plan is the engine's answer for one snapshot at one instant. It may share memory with the
// snapshot (statuses' pointers, payloads) and between its own parts (one completedAt for
// every write of the plan, one Env for a batch): treat it as read-only.
type Plan struct {
	// Status is the CommandSequence status to write (report included once terminal).
	Status batonv1.CommandSequenceStatus
	// Members has one entry per member the plan decided, in report order (index, then
	// name). Quiet batches are left out: batches whose members are all settled (recorded
	// terminal, reported completed, passed), and batches behind a gate the plan keeps shut
	// whose members all wait in Pending for an in-process handler, their TTL ahead. A member
	// left out has nothing to write and nothing to record, its phase as observed; a plan
	// costs the batches where something happens, not the whole sequence.
	Members []MemberPlan
	// Events are sequence-level events to record.
	Events []Event
	// NextWake is the next instant at which the plan changes by time alone (a TTL, the
	// assembly deadline, a held member's executor cutoff); zero when nothing is pending on
	// time.
	NextWake time.Time
}

// ActionType says what the caller must do to a member.
type ActionType string

const (
	// ActionNone: nothing to write.
	ActionNone ActionType = ""
	// ActionSetStatus: write MemberPlan.Status (phase change, expiry, skip, failure).
	ActionSetStatus ActionType = "SetStatus"
	// ActionOpenGate: write MemberPlan.Status first if it differs, then, as the last write
	// to this command, add GateLabels in one metadata patch.
	ActionOpenGate ActionType = "OpenGate"
	// ActionRun: claim the command (status write guarded by resourceVersion) and run its
	// in-process handler, with a context ending at Deadline. The claim is the first write:
	// Status (phase Ready) is written before it only when the member must wait for a
	// concurrency slot.
	ActionRun ActionType = "Run"
)

// MemberPlan is what to do with one member.
type MemberPlan struct {
	Name string
	// Member is the member's position in the Snapshot's Members: a caller that built them
	// from its own list finds the object there without a lookup by name.
	Member int
	Action ActionType
	// Status is the member's status after the action; for ActionRun, before the claim
	// (phase Ready for a first run, Running for the re-run of a lost idempotent handler),
	// written only if the member must wait for a slot.
	// With ActionNone it is the observed status, unchanged: the snapshot's own (a pointer,
	// so that a plan of thousands of idle members copies none of them).
	Status *batonv1.OperatorCommandStatus
	// GateLabels are the labels to add for ActionOpenGate.
	GateLabels map[string]string
	// Deadline is the member's TTL instant (zero: none); a running handler's context ends
	// there.
	Deadline time.Time
	// MaxAttempts is 1 + kubescape.io/retries for ActionRun: the runs this claim may make,
	// retries included, each after RetryDelay and only while RetryFits the Deadline.
	MaxAttempts int
	// Events are the events to record on this command.
	Events []Event
	// Phase is the member's phase as the engine sees it after the action. It differs from
	// Status.Phase when baton must not write (an external command after its gate opened
	// shows Running here while its recorded phase stays Ready).
	Phase batonv1.CommandPhase
	// Env is what the handler of an ActionRun sees of the sequence: earlier steps, its
	// args, the sequence. Shared between the members of a batch: read-only.
	Env *Env
}

// Event is a Kubernetes Event to record.
type Event struct {
	Warning bool
	Reason  batonv1.EventReason
	Message string
	// PhaseChange marks a sequence's phase event (its start or its end, Plan.Events): it
	// reports the phase Plan.Status shows, so it describes something that happened only
	// once that status is written. A caller that puts the write off records it with the
	// write; the plans until then say it again.
	PhaseChange bool
}
