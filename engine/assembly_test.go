package engine

import (
	"testing"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestDecideAssembly(t *testing.T) {
	incompleteTTL := `sequence "seq" has 2 of 3 commands at 2026-03-01T12:06:00Z, when the TTL of command b ended its assembly`
	incompleteTimeout := `sequence "seq" has 1 of 2 commands at 2026-03-01T12:01:00Z, when the assembly timeout 1m0s ended its assembly`
	disagree := "commands disagree on commandCount: a has 2, b has 3"
	noCount := `command b has no commandCount but shares sequence key "seq" with 1 other commands`
	tooMany := `sequence "seq" has 3 commands but commandCount is 2`
	noIndex := "command b has commandCount 2 but no commandIndex"
	late := "command arrived after its sequence finished"
	prevRunning := &batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, StartedAt: mt(0), CurrentBatch: ptr(0)}
	prevSucceeded := &batonv1.CommandSequenceStatus{
		Phase: batonv1.SequenceSucceeded, Progress: "2/2", Message: "all 2 commands finished",
		StartedAt: mt(0), CompletedAt: mt(time.Minute), Report: &batonv1.SequenceReport{},
	}

	runDecideCases(t, map[string]decideCase{
		"a standalone in-process command runs at once": {
			snap: snap(MakeMember("a")),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"},
				Members:  map[string]outcome{"a": runNow},
				Events:   running(1),
			},
		},
		"a standalone external command gets its gate opened": {
			snap: snap(MakeMember("a").External()),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"},
				Members:  map[string]outcome{"a": openGate},
				Events:   running(1),
			},
		},
		"a standalone external command with a routing label is left to its executor, without warning": {
			snap: snap(MakeMember("a").External().Label(batonv1.LabelAppName, "operator")),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"},
				Members:  map[string]outcome{"a": pendingQuiet},
				Events:   running(1),
			},
		},
		"nothing runs before every member is present; the earliest deadline wakes": {
			snap: snap(
				MakeMember("a").Seq(0, 3).TTL(10*time.Minute),
				MakeMember("b").Seq(1, 3).TTL(5*time.Minute).Created(time.Minute),
			),
			opts: Options{AssemblyTimeout: 20 * time.Minute},
			now:  at(2 * time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceAssembling, Progress: "0/3", Message: "waiting for commands: 2 of 3 present"},
				Members:  map[string]outcome{"a": pendingQuiet, "b": pendingQuiet},
				NextWake: at(6 * time.Minute),
			},
		},
		"not assembled at the earliest member TTL: Incomplete": {
			snap: snap(
				MakeMember("a").Seq(0, 3).TTL(10*time.Minute),
				MakeMember("b").Seq(1, 3).TTL(5*time.Minute).Created(time.Minute),
			),
			opts: Options{AssemblyTimeout: 20 * time.Minute},
			now:  at(6 * time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonIncomplete, Progress: "2/3", Message: incompleteTTL},
				Members: map[string]outcome{
					"a": finished(batonv1.CommandFailed, batonv1.ReasonIncomplete, incompleteTTL),
					"b": finished(batonv1.CommandFailed, batonv1.ReasonIncomplete, incompleteTTL),
				},
				Events: []Event{ended(batonv1.SequenceFailed, incompleteTTL)},
			},
		},
		"not assembled at the assembly timeout: Incomplete": {
			snap: snap(MakeMember("a").Seq(0, 2)),
			opts: Options{AssemblyTimeout: time.Minute},
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonIncomplete, Progress: "1/2", Message: incompleteTimeout},
				Members:  map[string]outcome{"a": finished(batonv1.CommandFailed, batonv1.ReasonIncomplete, incompleteTimeout)},
				Events:   []Event{ended(batonv1.SequenceFailed, incompleteTimeout)},
			},
		},
		"no TTL and no assembly timeout: assembly waits without a wake-up": {
			snap: snap(MakeMember("a").Seq(0, 2)),
			now:  at(time.Hour),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceAssembling, Progress: "0/2", Message: "waiting for commands: 1 of 2 present"},
				Members:  map[string]outcome{"a": pendingQuiet},
			},
		},
		"assembled: the first batch runs, the next waits": {
			snap: snap(MakeMember("b").Seq(1, 2), MakeMember("a").Seq(0, 2)),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/2", CurrentBatch: ptr(0), Message: "batch 0 running: 0/2 commands finished"},
				Members:  map[string]outcome{"a": runNow, "b": pendingQuiet},
				Events:   running(2),
			},
		},
		"members disagree on commandCount: InconsistentCount": {
			snap: snap(MakeMember("a").Seq(0, 2), MakeMember("b").Seq(1, 3)),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonInconsistentCount, Progress: "2/2", FailedMember: "b", Message: disagree},
				Members: map[string]outcome{
					"a": finished(batonv1.CommandFailed, batonv1.ReasonInconsistentCount, disagree),
					"b": finished(batonv1.CommandFailed, batonv1.ReasonInconsistentCount, disagree),
				},
				Events: []Event{ended(batonv1.SequenceFailed, disagree)},
			},
		},
		"a member without commandCount beside others: InconsistentCount": {
			snap: snap(MakeMember("a").Seq(0, 2), MakeMember("b").IndexOnly(1)),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonInconsistentCount, Progress: "2/2", FailedMember: "b", Message: noCount},
				Members: map[string]outcome{
					"a": finished(batonv1.CommandFailed, batonv1.ReasonInconsistentCount, noCount),
					"b": finished(batonv1.CommandFailed, batonv1.ReasonInconsistentCount, noCount),
				},
				Events: []Event{ended(batonv1.SequenceFailed, noCount)},
			},
		},
		"commandCount 0: InconsistentCount": {
			snap: snap(MakeMember("a").Seq(0, 0)),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonInconsistentCount, Progress: "1/1", FailedMember: "a", Message: "commandCount 0 is not a sequence size"},
				Members:  map[string]outcome{"a": finished(batonv1.CommandFailed, batonv1.ReasonInconsistentCount, "commandCount 0 is not a sequence size")},
				Events:   []Event{ended(batonv1.SequenceFailed, "commandCount 0 is not a sequence size")},
			},
		},
		"more members than commandCount: TooManyCommands": {
			snap: snap(MakeMember("a").Seq(0, 2), MakeMember("b").Seq(1, 2), MakeMember("c").Seq(1, 2)),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonTooManyCommands, Progress: "3/3", Message: tooMany},
				Members: map[string]outcome{
					"a": finished(batonv1.CommandFailed, batonv1.ReasonTooManyCommands, tooMany),
					"b": finished(batonv1.CommandFailed, batonv1.ReasonTooManyCommands, tooMany),
					"c": finished(batonv1.CommandFailed, batonv1.ReasonTooManyCommands, tooMany),
				},
				Events: []Event{ended(batonv1.SequenceFailed, tooMany)},
			},
		},
		"a member without commandIndex: MissingIndex": {
			snap: snap(MakeMember("a").Seq(0, 2), MakeMember("b").CountOnly(2)),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonMissingIndex, Progress: "2/2", FailedMember: "b", Message: noIndex},
				Members: map[string]outcome{
					"a": finished(batonv1.CommandFailed, batonv1.ReasonMissingIndex, noIndex),
					"b": finished(batonv1.CommandFailed, batonv1.ReasonMissingIndex, noIndex),
				},
				Events: []Event{ended(batonv1.SequenceFailed, noIndex)},
			},
		},
		"a member arriving after start breaks the count: waiting ones fail, started ones finish": {
			snap: func() Snapshot {
				s := snap(MakeMember("a").Seq(0, 2).Running().InFlight(), MakeMember("b").Seq(1, 2).Phase(batonv1.CommandPending),
					MakeMember("c").Seq(1, 2))
				s.Sequence = prevRunning
				return s
			}(),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "2/3", CurrentBatch: ptr(0),
					Message: tooMany + "; waiting for the commands already started to finish"},
				Members: map[string]outcome{
					"a": runningQuiet,
					"b": finished(batonv1.CommandFailed, batonv1.ReasonTooManyCommands, tooMany),
					"c": finished(batonv1.CommandFailed, batonv1.ReasonTooManyCommands, tooMany),
				},
			},
		},
		"a broken sequence fails a started member that no executor holds": {
			snap: func() Snapshot {
				s := snap(MakeMember("a").Seq(0, 2).Phase(batonv1.CommandReady), MakeMember("b").Seq(1, 2).Phase(batonv1.CommandPending),
					MakeMember("c").Seq(1, 2))
				s.Sequence = prevRunning
				return s
			}(),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonTooManyCommands, Progress: "3/3", CurrentBatch: ptr(0),
					Message: tooMany},
				Members: map[string]outcome{
					"a": finished(batonv1.CommandFailed, batonv1.ReasonTooManyCommands, tooMany),
					"b": finished(batonv1.CommandFailed, batonv1.ReasonTooManyCommands, tooMany),
					"c": finished(batonv1.CommandFailed, batonv1.ReasonTooManyCommands, tooMany),
				},
				Events: []Event{ended(batonv1.SequenceFailed, tooMany)},
			},
		},
		"a member deleted after start does not send the sequence back to assembly": {
			snap: func() Snapshot {
				s := snap(MakeMember("a").Seq(0, 3).Succeeded(""), MakeMember("b").Seq(1, 3).Phase(batonv1.CommandPending))
				s.Sequence = prevRunning
				return s
			}(),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "1/3", CurrentBatch: ptr(1), Message: "batch 1 running: 1/3 commands finished"},
				Members: map[string]outcome{
					"a": succeededQuiet,
					"b": {Action: ActionRun, Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady, Message: msgReadyInProcess, MaxAttempts: 1},
				},
			},
		},
		"a member arriving after the sequence finished fails; the finished status stays": {
			snap: func() Snapshot {
				s := snap(MakeMember("a").Seq(0, 2).Succeeded(""), MakeMember("b").Seq(1, 2))
				s.Sequence = prevSucceeded
				return s
			}(),
			now: at(time.Hour),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceSucceeded, Progress: "2/2", Message: "all 2 commands finished"},
				Members: map[string]outcome{
					"a": succeededQuiet,
					"b": finished(batonv1.CommandFailed, batonv1.ReasonTooManyCommands, late),
				},
			},
		},
	})
}
