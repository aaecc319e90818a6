// Package engine holds every decision baton makes about a sequence of OperatorCommands, and
// nothing else. Decide takes a Snapshot of one sequence (its members as read from the API
// server, the last CommandSequence status), the Options and the instant now, and returns a
// Plan: what to write to each command, the CommandSequence status, the events to record and
// when time alone will change the answer. It is pure — no client, no clock, no logging —
// so all of DESIGN.md sections 2 and 3 is tested here without a cluster.
//
// engine must not import client-go, controller-runtime or anything that talks to an API
// server; apimachinery types are fine. `go list -deps ./engine | grep -E
// 'client-go|controller-runtime'` prints nothing.
//
// # Why did this command not run yet?
//
// Decide walks the batches in ascending commandIndex and, for each member, applies the
// first rule that holds, in this order:
//
//  1. Its status.phase is terminal (Succeeded, Failed, Expired, Skipped): it never changes.
//     If its executor reports it started again (completed went false), the report is
//     refused: the recorded status is written back with a Warning IllegalTransition.
//  2. Its executor reported completion (completed true, with or without error): baton
//     records the phase it implies (no error: Succeeded; error reason Expired: Expired;
//     PredecessorFailed or ConditionFalse: Skipped; any other: Failed).
//  3. The sequence is broken and no executor holds the member (its gate never opened, or
//     an in-process one is not in flight): it fails with the sequence's reason. Broken
//     means: members disagree on commandCount, one has none beside others, or it is below
//     1 (InconsistentCount); more members than commandCount
//     (TooManyCommands); a member without commandIndex (MissingIndex); still incomplete at
//     the assembly deadline (Incomplete); or the sequence already finished and this member
//     came late (it inherits the sequence's failure, else TooManyCommands).
//  4. Root cause wins: its batch is closed by a blocking failure in an earlier batch that
//     happened at or before its own deadline (an expired predecessor failed at its
//     deadline, any other at its completedAt), and no executor holds it: Skipped,
//     PredecessorFailed, naming the culprit, even when both deadlines pass in the same
//     instant. Otherwise, its TTL passed (creationTimestamp + spec.ttl, or + DefaultTTL
//     where spec.ttl is 0; no TTL when both are 0): Expired, completedAt now, the message
//     naming the deadline.
//  5. It is external (no in-process handler) and already carries kubescape.io/gate=open:
//     baton writes nothing to it — no phase, no label — until it completes or expires,
//     because the Kubescape operator drops a command whose last event is not ADDED.
//  6. Its batch is closed (see below). After a blocking failure in an earlier batch it is
//     Skipped, PredecessorFailed, the message naming the culprit, unless an executor holds
//     it (in flight, or an external command that started), which then finishes. A held
//     external member (annotation kubescape.io/gate-labels) still gated ExternalMaxAge
//     after its creation, less ExecutorCutoffMargin (the executor's 5 s debounce and clock
//     skew), fails with ExecutorCutoff: its executor would skip it unseen. An
//     external sequence member carrying a routing label (kubescape.io/app-name,
//     kubescape.io/node-name) is visible to its executor already: Warning Ungated on it and
//     the sequence, no write. Otherwise it waits in Pending; nothing writes Pending (a
//     missing phase reads as Pending, and the CRD's schema shows it).
//  7. Its batch is open and it is Pending: its kubescape.io/when condition is evaluated
//     (false: Skipped, ConditionFalse; not a bool, too long, too big, failing: Failed,
//     InvalidCondition). Then an in-process member gets ActionRun (claimed at once, or for a
//     quick idempotent handler claimed and completed in one write when it returns: its
//     planned status, phase Ready, is written only if it must wait for a slot; Deadline its
//     TTL, MaxAttempts 1 + kubescape.io/retries; an invalid retries value fails it with
//     InvalidRetries) unless this process already holds it (Held: queued for a slot), which
//     is not planned again; an external member gets ActionOpenGate: phase Ready written first,
//     then, as the last write, one metadata patch adding kubescape.io/gate=open and the
//     held labels (malformed ones fail it with InvalidGateLabels; a held member opening
//     past its cutoff fails with ExecutorCutoff). An external
//     member carrying a routing label is never written to: its executor already has it.
//  8. Its batch is open and it is Ready or Running: an in-process one that no executor holds
//     (InFlight false) is run (again) if Ready, re-run if Running and idempotent (at most
//     MaxExecutorLosses runs beyond its attempts), else Failed with ExecutorLost. An
//     external Ready one without the gate label gets the gate patch again.
//
// A batch is open when the sequence is assembled (all commandCount members present) or
// already started, nothing is broken, and every member of every earlier batch passed:
// Succeeded, Skipped with ConditionFalse, or finished in any way with
// kubescape.io/continue-on-failure "true" (exactly that string). Members of a batch run
// together; a failure in a batch skips every later batch at once while its own batch
// finishes. The walk is one pass in batch order over this plan's own
// outcomes, so a skip or failure decided now already counts for the next batch: applying a
// plan and deciding again at the same instant yields no further action.
//
// A cancelled sequence (Snapshot.Cancelled: the CommandSequence carries kubescape.io/cancel
// "true") is broken like one whose assembly failed, with phase Skipped and reason
// Cancelled: every member no executor holds is Skipped, Cancelled; the caller cancels the
// handlers it runs.
//
// A command without commandCount, alone in its snapshot, is standalone: assembled at once,
// it runs subject to its TTL, and an external one carrying routing labels is simply left to
// its executor.
//
// # The sequence
//
// The sequence phase follows the sequence machine: Assembling until assembled (or broken),
// Running once a gate opened (a member deleted later does not send it back), then
// Succeeded when every member is terminal and none blocked (a continue-on-failure failure
// does not), else Failed with the reason of the broken assembly or of the first blocking
// member in (index, name) order (its error.reason, else its phase). A terminal status is
// never rewritten. A sequence whose commands all vanished before it finished fails with
// CommandsDeleted, its report keeping the counters by phase in omitted. The status carries progress "finished/commandCount", counts,
// currentBatch (the last batch opened), startedAt (kept once set), completedAt, failedMember
// (set as soon as a blocking failure is known), the conditions Assembled and Succeeded
// (Tekton style: Unknown while running), and, once terminal, the report: every member in
// (index, name) order, JSON payloads inline and others base64, error messages clipped to
// 256 bytes, bounded by ReportMaxBytes as serialised: past it the largest payloads are
// replaced by size and sha256, then, if the lines alone do not fit, it keeps, as room
// allows, the member that failed the sequence, every other Failed or Expired member (never
// a Skipped one), then the first and the last, drops the rest and counts them by phase in
// omitted (complete: false). TestReportBound checks 10, 10,000 and 100,000 members.
//
// The sequence's events (Plan.Events) are its Warnings and two Normal events marked
// PhaseChange: one when it starts running (from Assembling or no status) and one when it
// ends (reason: its phase; Succeeded with the summary "k/n succeeded in 12s", Failed with
// the status message naming the failed member). A caller that writes Running late may go
// from Assembling straight to the final phase: that plan carries both, start first, and
// the batch a cancel stopped (the last one with a member whose gate had opened).
//
// # State machines
//
// machine.go defines the command machine (Pending → Ready → Running → Succeeded | Failed;
// Failed, Expired and Skipped from any non-terminal phase) and the sequence machine
// (Assembling → Running → Succeeded | Failed; Failed from Assembling) with
// github.com/looplab/fsm. They are the single source of legality: CanTransition and
// CanTransitionSequence use tables derived from them once at start. A status is sampled,
// not streamed, so a change is legal when the machine reaches it in one or more events.
// status.phase is baton's record; started, completed and error are the executor's report.
//
// # Time
//
// Decide never reads the clock. Plan.NextWake is the earliest future instant at which time
// alone changes the plan: a member's TTL, the assembly deadline, a held member's executor
// cutoff. Retries happen inside the runner; RetryDelay and RetryFits give its backoff and
// whether another attempt starts before the TTL.
//
// # Cost
//
// Decide is linear in the members (one sort, skipped when the members come in report
// order; one pass; an Env built once per plan and only when a condition or a handler needs
// it; expressions compiled once and cached). Quiet batches cost a glance and no plan: a
// batch whose members are all settled (recorded terminal, completed, passed), and a batch
// behind a shut gate, nothing failed, whose members all wait in Pending for an in-process
// handler with their TTL ahead. Plan.Members leaves them out, so a long chain in the middle
// of its run is planned for its one open batch (BenchmarkDecide's chain cases measure it
// against deciding every member). A property test (checkProperties, also under FuzzDecide)
// compares every plan with the one that decides each member.
//
// A caller that keeps its members in a Roster, as they arrive and change, passes its
// Summary in the Snapshot, and the glance goes too: the settled batches that lead the
// sequence and the waiting ones that trail it are taken whole from the summary, and a
// decision reads only the batches between them (BenchmarkDecide's summarised cases).
// checkRoster (under checkProperties) keeps a roster through every change of the generated
// sequences and compares, at each step, its summary with one made from scratch and the
// plan it gives with the plan that reads every member.
//
// Per member, time and allocations stay flat or fall slightly with the sequence's size
// (BenchmarkDecide, a sequence in batches of 5 caught as its middle batch opens): the fixed
// cost (status, conditions, the gate-label check) spreads out; nothing grows.
// TestAllocationsPerMemberFlat fails if allocations per member ever double from 100 to
// 1000 members. Most of the remaining cost is decoding earlier steps' JSON payloads for the
// Env of a batch that opens; a plan that opens no gate and starts no handler decodes
// nothing.
package engine
