package engine

import (
	"testing"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestDecideInProcess(t *testing.T) {
	runningSeq := seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"}
	runningEvents := running(1)
	failedSeq := func(reason, msg string) seqOutcome {
		return seqOutcome{Phase: batonv1.SequenceFailed, Reason: reason, Progress: "1/1", FailedMember: "a",
			Message: "command a failed (" + reason + "): " + msg}
	}
	failedEvents := func(reason, msg string) []Event {
		return []Event{startEvent(1), ended(batonv1.SequenceFailed, "command a failed ("+reason+"): "+msg)}
	}
	lost := `command was Running (executer "pod-1") but no executor holds it, and its handler is not idempotent`
	lostAgain := "command lost its executor again after 4 attempts"
	badRetries := func(v string) decideCase {
		msg := `annotation kubescape.io/retries must be an integer from 0 to 100, got "` + v + `"`
		return decideCase{
			snap: snap(MakeMember("a").Retries(v)),
			now:  at(0),
			want: result{
				Sequence: failedSeq(batonv1.ReasonInvalidRetries, msg),
				Members:  map[string]outcome{"a": finished(batonv1.CommandFailed, batonv1.ReasonInvalidRetries, msg)},
				Events:   failedEvents(batonv1.ReasonInvalidRetries, msg),
			},
		}
	}
	withAttempts := func(w *memberWrapper, n int32) *memberWrapper {
		w.Member.Status.Attempts = n
		return w
	}

	runDecideCases(t, map[string]decideCase{
		"retries N: up to N+1 attempts": {
			snap: snap(MakeMember("a").Retries("2")),
			now:  at(0),
			want: result{
				Sequence: runningSeq,
				Members: map[string]outcome{"a": {Action: ActionRun, Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady,
					Message: msgReadyInProcess, MaxAttempts: 3}},
				Events: runningEvents,
			},
		},
		"retries that are not a number: InvalidRetries": badRetries("x"),
		"negative retries: InvalidRetries":              badRetries("-1"),
		"retries above the maximum: InvalidRetries":     badRetries("101"),
		"retries on an external command are not its business": {
			snap: snap(MakeMember("a").External().Retries("x")),
			now:  at(0),
			want: result{Sequence: runningSeq, Members: map[string]outcome{"a": openGate}, Events: runningEvents},
		},
		"Ready and not in flight: run (the claim did not happen)": {
			snap: snap(MakeMember("a").Phase(batonv1.CommandReady)),
			now:  at(0),
			want: result{
				Sequence: runningSeq,
				Members: map[string]outcome{"a": {Action: ActionRun, Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady,
					Message: msgReadyInProcess, MaxAttempts: 1}},
				Events: runningEvents,
			},
		},
		"Pending and queued here for a slot: not planned again, its condition not evaluated again": {
			snap: snap(MakeMember("a").When(`1 / 0 == 1`).Queued()),
			now:  at(0),
			want: result{
				Sequence: runningSeq,
				Members:  map[string]outcome{"a": {Phase: batonv1.CommandReady}},
				Events:   runningEvents,
			},
		},
		"Ready and in flight: wait": {
			snap: snap(MakeMember("a").Phase(batonv1.CommandReady).InFlight()),
			now:  at(0),
			want: result{
				Sequence: runningSeq,
				Members:  map[string]outcome{"a": {Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady}},
				Events:   runningEvents,
			},
		},
		"Running without an executor, not idempotent: ExecutorLost": {
			snap: snap(MakeMember("a").Running()),
			now:  at(time.Minute),
			want: result{
				Sequence: failedSeq(batonv1.ReasonExecutorLost, lost),
				Members:  map[string]outcome{"a": finished(batonv1.CommandFailed, batonv1.ReasonExecutorLost, lost)},
				Events:   failedEvents(batonv1.ReasonExecutorLost, lost),
			},
		},
		"Running without an executor, idempotent: run again": {
			snap: snap(MakeMember("a").Running().Idempotent().Retries("1")),
			now:  at(time.Minute),
			want: result{
				Sequence: runningSeq,
				Members: map[string]outcome{"a": {Action: ActionRun, Phase: batonv1.CommandRunning, Recorded: batonv1.CommandRunning,
					MaxAttempts: 2}},
				Events: runningEvents,
			},
		},
		"idempotent but lost past its attempts plus MaxExecutorLosses: ExecutorLost": {
			snap: snap(withAttempts(MakeMember("a").Running().Idempotent(), 4)),
			now:  at(time.Minute),
			want: result{
				Sequence: failedSeq(batonv1.ReasonExecutorLost, lostAgain),
				Members:  map[string]outcome{"a": finished(batonv1.CommandFailed, batonv1.ReasonExecutorLost, lostAgain)},
				Events:   failedEvents(batonv1.ReasonExecutorLost, lostAgain),
			},
		},
		"a completed in-process command is recorded": {
			snap: snap(MakeMember("a").Running().InFlight().Reported(&batonv1.OperatorCommandStatusError{
				Reason: batonv1.ReasonHandlerFailed, Message: "boom"})),
			now: at(time.Minute),
			want: result{
				Sequence: failedSeq(batonv1.ReasonHandlerFailed, "boom"),
				Members: map[string]outcome{"a": {Action: ActionSetStatus, Phase: batonv1.CommandFailed, Recorded: batonv1.CommandFailed,
					Reason: batonv1.ReasonHandlerFailed, Message: "Failed by pod-1: HandlerFailed: boom",
					Events: []Event{{Warning: true, Reason: batonv1.ReasonHandlerFailed, Message: "Failed by pod-1: HandlerFailed: boom"}}}},
				Events: failedEvents(batonv1.ReasonHandlerFailed, "boom"),
			},
		},
	})
}

func TestDecideIllegalTransition(t *testing.T) {
	refused := "command a reported started=true completed=false after it was Succeeded: refused, status restored"
	s := snap(MakeMember("a").Seq(0, 1).Succeeded(`{"ok":true}`))
	s.Members[0].Status.Completed = false // a completed command reported started again
	got := Decide(s, Options{}, at(time.Minute))
	want := result{
		Sequence: seqOutcome{Phase: batonv1.SequenceSucceeded, Progress: "1/1", CurrentBatch: ptr(0), Message: "all 1 commands finished"},
		Members: map[string]outcome{"a": {Action: ActionSetStatus, Phase: batonv1.CommandSucceeded, Recorded: batonv1.CommandSucceeded,
			Events: []Event{{Warning: true, Reason: batonv1.ReasonIllegalTransition, Message: refused}}}},
		Events: []Event{
			{Warning: true, Reason: batonv1.ReasonIllegalTransition, Message: refused},
			startEvent(1),
			ended(batonv1.SequenceSucceeded, "1/1 succeeded in 59s"),
		},
	}
	diffResult(t, want, summarize(s, Options{}, got))
	if st := got.Members[0].Status; !st.Completed || !st.CompletedAt.Equal(mt(3*time.Second)) || string(st.Payload) != `{"ok":true}` {
		t.Errorf("restored status = %+v, want completed at +3s with its payload", st)
	}

	// A Failed record without its error takes it back from the recorded report.
	f := snap(MakeMember("a").Seq(0, 1).Failed(batonv1.ReasonHandlerFailed, "boom"))
	f.Members[0].Status.Completed, f.Members[0].Status.Error, f.Members[0].Status.CompletedAt = false, nil, nil
	f.Sequence = &batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, Report: &batonv1.SequenceReport{
		Members: []batonv1.ReportMember{{Name: "a", CompletedAt: mt(3 * time.Second),
			Error: &batonv1.OperatorCommandStatusError{Reason: batonv1.ReasonHandlerFailed, Message: "boom"}}},
	}}
	st := Decide(f, Options{}, at(time.Minute)).Members[0].Status
	if !st.Completed || st.Error == nil || st.Error.Reason != batonv1.ReasonHandlerFailed || !st.CompletedAt.Equal(mt(3*time.Second)) {
		t.Errorf("restored status = %+v, want the reported error and completion time", st)
	}
}
