package engine

import (
	"testing"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestDecideGate(t *testing.T) {
	afterA := "command a failed (HandlerFailed)"
	stillRunning := "; waiting for the commands already started to finish"
	readyRun := outcome{Action: ActionRun, Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady, Message: msgReadyInProcess,
		MaxAttempts: 1}
	pendingRecorded := outcome{Phase: batonv1.CommandPending, Recorded: batonv1.CommandPending}
	failedQuiet := outcome{Phase: batonv1.CommandFailed, Recorded: batonv1.CommandFailed, Reason: batonv1.ReasonHandlerFailed}

	runDecideCases(t, map[string]decideCase{
		"a batch waits while an earlier one runs": {
			snap: snap(MakeMember("a").Seq(0, 2).Running().InFlight(), MakeMember("b").Seq(1, 2).Phase(batonv1.CommandPending)),
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/2", CurrentBatch: ptr(0), Message: "batch 0 running: 0/2 commands finished"},
				Members:  map[string]outcome{"a": runningQuiet, "b": pendingRecorded},
				Events:   running(2),
			},
		},
		"indexes may start anywhere and leave gaps": {
			snap: snap(
				MakeMember("a").Seq(5, 3).Succeeded(""),
				MakeMember("b").Seq(10, 3).Phase(batonv1.CommandPending),
				MakeMember("c").Seq(12, 3).Phase(batonv1.CommandPending),
			),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "1/3", CurrentBatch: ptr(10), Message: "batch 10 running: 1/3 commands finished"},
				Members:  map[string]outcome{"a": succeededQuiet, "b": readyRun, "c": pendingRecorded},
				Events:   running(3),
			},
		},
		"a step skipped by its condition counts as success: the next batch opens in the same plan": {
			snap: snap(
				MakeMember("a").Seq(0, 3).Succeeded(""),
				MakeMember("b").Seq(1, 3).When("false").Phase(batonv1.CommandPending),
				MakeMember("c").Seq(2, 3).Phase(batonv1.CommandPending),
			),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "2/3", CurrentBatch: ptr(2), Message: "batch 2 running: 2/3 commands finished"},
				Members: map[string]outcome{
					"a": succeededQuiet,
					"b": finished(batonv1.CommandSkipped, batonv1.ReasonConditionFalse, `condition "false" is false`),
					"c": readyRun,
				},
				Events: running(3),
			},
		},
		"a failure marked continue-on-failure does not block; the sequence succeeds": {
			snap: snap(
				MakeMember("a").Seq(0, 2).Failed(batonv1.ReasonHandlerFailed, "boom").ContinueOnFailure(),
				MakeMember("b").Seq(1, 2).Succeeded(""),
			),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceSucceeded, Progress: "2/2", CurrentBatch: ptr(1), Message: "all 2 commands finished"},
				Members:  map[string]outcome{"a": failedQuiet, "b": succeededQuiet},
				Events:   []Event{startEvent(2), ended(batonv1.SequenceSucceeded, "1/2 succeeded, 1 failed in 59s")},
			},
		},
		"continue-on-failure other than \"true\" blocks": {
			snap: snap(
				MakeMember("a").Seq(0, 2).Failed(batonv1.ReasonHandlerFailed, "boom").Ann(batonv1.AnnotationContinueOnFailure, "yes"),
				MakeMember("b").Seq(1, 2).Phase(batonv1.CommandPending),
			),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonHandlerFailed, Progress: "2/2", CurrentBatch: ptr(0),
					FailedMember: "a", Message: afterA + ": boom"},
				Members: map[string]outcome{
					"a": failedQuiet,
					"b": finished(batonv1.CommandSkipped, batonv1.ReasonPredecessorFailed, afterA),
				},
				Events: []Event{startEvent(2), ended(batonv1.SequenceFailed, afterA+": boom")},
			},
		},
		"a failure skips every later batch while its own batch finishes": {
			snap: snap(
				MakeMember("a").Seq(0, 4).Failed(batonv1.ReasonHandlerFailed, "boom"),
				MakeMember("b").Seq(0, 4).Running().InFlight(),
				MakeMember("c").Seq(1, 4).Phase(batonv1.CommandPending),
				MakeMember("d").Seq(2, 4),
			),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "3/4", CurrentBatch: ptr(0), FailedMember: "a",
					Message: afterA + ": boom" + stillRunning},
				Members: map[string]outcome{
					"a": failedQuiet,
					"b": runningQuiet,
					"c": finished(batonv1.CommandSkipped, batonv1.ReasonPredecessorFailed, afterA),
					"d": finished(batonv1.CommandSkipped, batonv1.ReasonPredecessorFailed, afterA),
				},
				Events: running(4),
			},
		},
		"once the failed batch finished the sequence fails with the culprit's reason": {
			snap: func() Snapshot {
				s := snap(
					MakeMember("a").Seq(0, 3).Failed(batonv1.ReasonHandlerFailed, "boom"),
					MakeMember("b").Seq(0, 3).Succeeded(""),
					MakeMember("c").Seq(1, 3).Skipped(batonv1.ReasonPredecessorFailed, afterA),
				)
				s.Sequence = &batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, StartedAt: mt(0), CurrentBatch: ptr(0)}
				return s
			}(),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonHandlerFailed, Progress: "3/3", CurrentBatch: ptr(0),
					FailedMember: "a", Message: afterA + ": boom"},
				Members: map[string]outcome{
					"a": failedQuiet,
					"b": succeededQuiet,
					"c": {Phase: batonv1.CommandSkipped, Recorded: batonv1.CommandSkipped, Reason: batonv1.ReasonPredecessorFailed, Message: afterA},
				},
				Events: []Event{ended(batonv1.SequenceFailed, afterA+": boom")},
			},
		},
		"a skipped predecessor (not by condition) blocks too": {
			snap: snap(
				MakeMember("a").Seq(0, 2).Skipped(batonv1.ReasonPredecessorFailed, "command z failed (HandlerFailed)"),
				MakeMember("b").Seq(1, 2).Phase(batonv1.CommandPending),
			),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonPredecessorFailed, Progress: "2/2", CurrentBatch: ptr(0),
					FailedMember: "a", Message: "command a was skipped (PredecessorFailed): command z failed (HandlerFailed)"},
				Members: map[string]outcome{
					"a": {Phase: batonv1.CommandSkipped, Recorded: batonv1.CommandSkipped, Reason: batonv1.ReasonPredecessorFailed, Message: "command z failed (HandlerFailed)"},
					"b": finished(batonv1.CommandSkipped, batonv1.ReasonPredecessorFailed, "command a was skipped (PredecessorFailed)"),
				},
				Events: []Event{startEvent(2), ended(batonv1.SequenceFailed,
					"command a was skipped (PredecessorFailed): command z failed (HandlerFailed)")},
			},
		},
	})
}

func TestDecideExternal(t *testing.T) {
	heldOperator := `{"kubescape.io/app-name":"operator"}`
	cutoffMsg := func(age string) string {
		return "gate of command b opens " + age + " or more after its creation, past the external executor's age limit 30m0s " +
			"(--external-max-age) less a 10s margin for its debounce: split the sequence or raise the executor's limit"
	}
	cutoffAt30, cutoffAt31, cutoffAt2958 := cutoffMsg("30m0s"), cutoffMsg("31m0s"), cutoffMsg("29m58s")
	ungatedMsg := "command b carries routing label kubescape.io/app-name before its gate opened: its executor may run it " +
		"out of turn; submit it with the label held in annotation kubescape.io/gate-labels"
	readyQuiet := outcome{Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady}
	runningA := snap(MakeMember("a").Seq(0, 2).Running().InFlight()).Members[0]
	succeededA := snap(MakeMember("a").Seq(0, 2).Succeeded("")).Members[0]
	with := func(a *Member, b *memberWrapper) Snapshot {
		s := snap(b)
		s.Members = append([]*Member{a}, s.Members...)
		return s
	}
	badLabels := func(raw, msg string) decideCase {
		return decideCase{
			snap: snap(MakeMember("a").External().HoldLabels(raw)),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonInvalidGateLabels, Progress: "1/1", FailedMember: "a",
					Message: "command a failed (InvalidGateLabels): " + msg},
				Members: map[string]outcome{"a": finished(batonv1.CommandFailed, batonv1.ReasonInvalidGateLabels, msg)},
				Events:  []Event{startEvent(1), ended(batonv1.SequenceFailed, "command a failed (InvalidGateLabels): "+msg)},
			},
		}
	}

	runDecideCases(t, map[string]decideCase{
		"held routing labels are added with the gate label, in one patch": {
			snap: snap(MakeMember("a").External().HoldLabels(heldOperator)),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"},
				Members: map[string]outcome{"a": {Action: ActionOpenGate, Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady,
					Message:    msgReadyExternal,
					GateLabels: map[string]string{batonv1.LabelGate: batonv1.GateOpen, batonv1.LabelAppName: "operator"},
					Events:     []Event{{Reason: "Ready", Message: msgReadyExternal}}}},
				Events: running(1),
			},
		},
		"gate labels that are not JSON: InvalidGateLabels": badLabels(`app-name=operator`,
			`annotation kubescape.io/gate-labels must be a JSON object of strings, got "app-name=operator"`),
		"gate labels that are not strings: InvalidGateLabels": badLabels(`{"a": 1}`,
			`annotation kubescape.io/gate-labels must be a JSON object of strings, got "{\"a\": 1}"`),
		"gate labels that are null: InvalidGateLabels": badLabels(`null`,
			`annotation kubescape.io/gate-labels must be a JSON object of strings, got "null"`),
		"gate labels naming the gate label: InvalidGateLabels": badLabels(`{"kubescape.io/gate":"closed"}`,
			`annotation kubescape.io/gate-labels may not set kubescape.io/gate`),
		"a gate label with an invalid value: InvalidGateLabels": badLabels(`{"app":"not valid!"}`,
			`annotation kubescape.io/gate-labels: label app value "not valid!": a valid label must be an empty string or consist of `+
				`alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character `+
				`(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`),
		"an open gate is quiet: no write while the executor works": {
			snap: with(runningA, MakeMember("b").Seq(0, 2).External().GateOpened().TTL(time.Hour).
				Status(batonv1.OperatorCommandStatus{Phase: batonv1.CommandReady, Started: true, Executer: "operator"})),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/2", CurrentBatch: ptr(0), Message: "batch 0 running: 0/2 commands finished"},
				Members:  map[string]outcome{"a": runningQuiet, "b": {Phase: batonv1.CommandRunning, Recorded: batonv1.CommandReady}},
				Events:   running(2),
				NextWake: at(time.Hour),
			},
		},
		"an open gate stays quiet even after an earlier batch failed": {
			snap: with(snap(MakeMember("a").Seq(0, 2).Failed(batonv1.ReasonHandlerFailed, "boom")).Members[0],
				MakeMember("b").Seq(1, 2).External().GateOpened().Phase(batonv1.CommandReady)),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "1/2", CurrentBatch: ptr(0), FailedMember: "a",
					Message: "command a failed (HandlerFailed): boom; waiting for the commands already started to finish"},
				Members: map[string]outcome{"a": {Phase: batonv1.CommandFailed, Recorded: batonv1.CommandFailed, Reason: batonv1.ReasonHandlerFailed},
					"b": readyQuiet},
				Events: running(2),
			},
		},
		"an open gate is quiet until the TTL passes, then Expired": {
			snap: snap(MakeMember("a").External().GateOpened().TTL(time.Minute).Phase(batonv1.CommandReady)),
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonExpired, Progress: "1/1", FailedMember: "a",
					Message: "command a expired (Expired): TTL 1m0s from creation passed at 2026-03-01T12:01:00Z"},
				Members: map[string]outcome{"a": finished(batonv1.CommandExpired, batonv1.ReasonExpired,
					"TTL 1m0s from creation passed at 2026-03-01T12:01:00Z")},
				Events: []Event{startEvent(1), ended(batonv1.SequenceFailed,
					"command a expired (Expired): TTL 1m0s from creation passed at 2026-03-01T12:01:00Z")},
			},
		},
		"the executor's success is recorded once reported": {
			snap: snap(MakeMember("a").Seq(0, 1).External().GateOpened().Phase(batonv1.CommandReady).
				Reported(nil).Status(batonv1.OperatorCommandStatus{Phase: batonv1.CommandReady, Started: true, Completed: true, Executer: "operator"})),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceSucceeded, Progress: "1/1", CurrentBatch: ptr(0), Message: "all 1 commands finished"},
				Members: map[string]outcome{"a": {Action: ActionSetStatus, Phase: batonv1.CommandSucceeded, Recorded: batonv1.CommandSucceeded,
					Message: "completed by operator", Events: []Event{{Reason: "Succeeded", Message: "completed by operator"}}}},
				Events: []Event{startEvent(1), ended(batonv1.SequenceSucceeded, "1/1 succeeded in 0s")},
			},
		},
		"the executor's failure is recorded once reported": {
			snap: snap(MakeMember("a").Seq(0, 1).External().GateOpened().Status(batonv1.OperatorCommandStatus{
				Phase: batonv1.CommandReady, Started: true, Completed: true, Executer: "operator",
				Error: &batonv1.OperatorCommandStatusError{Reason: "ScanFailed", Message: "no nodes"}})),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: "ScanFailed", Progress: "1/1", CurrentBatch: ptr(0), FailedMember: "a",
					Message: "command a failed (ScanFailed): no nodes"},
				Members: map[string]outcome{"a": {Action: ActionSetStatus, Phase: batonv1.CommandFailed, Recorded: batonv1.CommandFailed,
					Reason: "ScanFailed", Message: "Failed by operator: ScanFailed: no nodes",
					Events: []Event{{Warning: true, Reason: "ScanFailed", Message: "Failed by operator: ScanFailed: no nodes"}}}},
				Events: []Event{startEvent(1), ended(batonv1.SequenceFailed, "command a failed (ScanFailed): no nodes")},
			},
		},
		"a routing label before the gate opened: Ungated warnings, no write": {
			snap: with(runningA, MakeMember("b").Seq(1, 2).External().Label(batonv1.LabelAppName, "operator")),
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/2", CurrentBatch: ptr(0), Message: "batch 0 running: 0/2 commands finished"},
				Members: map[string]outcome{"a": runningQuiet, "b": {Phase: batonv1.CommandPending,
					Events: []Event{{Warning: true, Reason: batonv1.ReasonUngated, Message: ungatedMsg}}}},
				Events: append([]Event{{Warning: true, Reason: batonv1.ReasonUngated, Message: ungatedMsg}},
					running(2)...),
			},
		},
		"an ungated member whose gate opens is not written to": {
			snap: with(succeededA, MakeMember("b").Seq(1, 2).External().Label(batonv1.LabelAppName, "operator")),
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "1/2", CurrentBatch: ptr(1), Message: "batch 1 running: 1/2 commands finished"},
				Members:  map[string]outcome{"a": succeededQuiet, "b": pendingQuiet},
				Events:   running(2),
			},
		},
		"a held member waits and wakes at its executor's cutoff": {
			snap: with(runningA, MakeMember("b").Seq(1, 2).External().HoldLabels(heldOperator)),
			opts: Options{ExternalMaxAge: 30 * time.Minute},
			now:  at(29 * time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/2", CurrentBatch: ptr(0), Message: "batch 0 running: 0/2 commands finished"},
				Members:  map[string]outcome{"a": runningQuiet, "b": pendingQuiet},
				Events:   running(2),
				NextWake: at(30*time.Minute - ExecutorCutoffMargin),
			},
		},
		"a held member still gated at its executor's cutoff: ExecutorCutoff": {
			snap: with(runningA, MakeMember("b").Seq(1, 2).External().HoldLabels(heldOperator)),
			opts: Options{ExternalMaxAge: 30 * time.Minute},
			now:  at(30 * time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "1/2", CurrentBatch: ptr(0), FailedMember: "b",
					Message: "command b failed (ExecutorCutoff): " + cutoffAt30 + "; waiting for the commands already started to finish"},
				Members: map[string]outcome{"a": runningQuiet, "b": finished(batonv1.CommandFailed, batonv1.ReasonExecutorCutoff, cutoffAt30)},
				Events: append([]Event{{Warning: true, Reason: batonv1.ReasonExecutorCutoff, Message: cutoffAt30}},
					running(2)...),
			},
		},
		"a held member whose gate opens past its executor's cutoff: ExecutorCutoff": {
			snap: func() Snapshot {
				s := with(succeededA, MakeMember("b").Seq(1, 2).External().HoldLabels(heldOperator).Phase(batonv1.CommandPending))
				s.Sequence = &batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, CurrentBatch: ptr(0)}
				return s
			}(),
			opts: Options{ExternalMaxAge: 30 * time.Minute},
			now:  at(31 * time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonExecutorCutoff, Progress: "2/2", CurrentBatch: ptr(1),
					FailedMember: "b", Message: "command b failed (ExecutorCutoff): " + cutoffAt31},
				Members: map[string]outcome{"a": succeededQuiet, "b": finished(batonv1.CommandFailed, batonv1.ReasonExecutorCutoff, cutoffAt31)},
				Events: []Event{
					{Warning: true, Reason: batonv1.ReasonExecutorCutoff, Message: cutoffAt31},
					ended(batonv1.SequenceFailed, "command b failed (ExecutorCutoff): "+cutoffAt31),
				},
			},
		},
		"a predecessor done at 29m58s: past the margin, ExecutorCutoff (the operator would see it after 30m)": {
			snap: func() Snapshot {
				s := with(succeededA, MakeMember("b").Seq(1, 2).External().HoldLabels(heldOperator))
				s.Sequence = &batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, CurrentBatch: ptr(0)}
				return s
			}(),
			opts: Options{ExternalMaxAge: 30 * time.Minute},
			now:  at(29*time.Minute + 58*time.Second),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonExecutorCutoff, Progress: "2/2", CurrentBatch: ptr(1),
					FailedMember: "b", Message: "command b failed (ExecutorCutoff): " + cutoffAt2958},
				Members: map[string]outcome{"a": succeededQuiet, "b": finished(batonv1.CommandFailed, batonv1.ReasonExecutorCutoff, cutoffAt2958)},
				Events: []Event{
					{Warning: true, Reason: batonv1.ReasonExecutorCutoff, Message: cutoffAt2958},
					ended(batonv1.SequenceFailed, "command b failed (ExecutorCutoff): "+cutoffAt2958),
				},
			},
		},
		"Ready without the gate label: the gate patch is sent again": {
			snap: snap(MakeMember("a").External().Phase(batonv1.CommandReady)),
			now:  at(0),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"},
				Members: map[string]outcome{"a": {Action: ActionOpenGate, Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady,
					Message: msgReadyExternal, GateLabels: map[string]string{batonv1.LabelGate: batonv1.GateOpen}}},
				Events: running(1),
			},
		},
	})
}
