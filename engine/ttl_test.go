package engine

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestDecideTTL(t *testing.T) {
	expired1m := "TTL 1m0s from creation passed at 2026-03-01T12:01:00Z"
	seqExpired := func(member, msg string) seqOutcome {
		return seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonExpired, Progress: "1/1", FailedMember: member,
			Message: "command " + member + " expired (Expired): " + msg}
	}
	// A predecessor whose executor reported failure Boom at +3s, as the engine records it.
	boomRecorded := outcome{Action: ActionSetStatus, Phase: batonv1.CommandFailed, Recorded: batonv1.CommandFailed, Reason: "Boom",
		Message: "Failed by its executor: Boom: ", Events: []Event{{Warning: true, Reason: "Boom", Message: "Failed by its executor: Boom: "}}}
	seqBoom := seqOutcome{Phase: batonv1.SequenceFailed, Reason: "Boom", Progress: "2/2", CurrentBatch: ptr(0),
		FailedMember: "a", Message: "command a failed (Boom)"}
	eventsBoom := []Event{startEvent(2), ended(batonv1.SequenceFailed, "command a failed (Boom)")}
	runDecideCases(t, map[string]decideCase{
		"a waiting command expires at its TTL": {
			snap: snap(MakeMember("a").Seq(0, 2).TTL(time.Minute), MakeMember("b").Seq(1, 2).TTL(time.Hour)),
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonExpired, Progress: "2/2", CurrentBatch: ptr(0),
					FailedMember: "a", Message: "command a expired (Expired): " + expired1m},
				Members: map[string]outcome{
					"a": finished(batonv1.CommandExpired, batonv1.ReasonExpired, expired1m),
					"b": finished(batonv1.CommandSkipped, batonv1.ReasonPredecessorFailed, "command a expired (Expired)"),
				},
				Events: []Event{startEvent(2), ended(batonv1.SequenceFailed, "command a expired (Expired): "+expired1m)},
			},
		},
		"root cause wins: both deadlines pass in the same instant, the successor is skipped naming its predecessor": {
			snap: snap(MakeMember("a").Seq(0, 2).TTL(3*time.Second), MakeMember("b").Seq(1, 2).TTL(3*time.Second)),
			now:  at(3 * time.Second),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonExpired, Progress: "2/2", CurrentBatch: ptr(0),
					FailedMember: "a", Message: "command a expired (Expired): TTL 3s from creation passed at 2026-03-01T12:00:03Z"},
				Members: map[string]outcome{
					"a": finished(batonv1.CommandExpired, batonv1.ReasonExpired, "TTL 3s from creation passed at 2026-03-01T12:00:03Z"),
					"b": finished(batonv1.CommandSkipped, batonv1.ReasonPredecessorFailed, "command a expired (Expired)"),
				},
				Events: []Event{startEvent(2), ended(batonv1.SequenceFailed,
					"command a expired (Expired): TTL 3s from creation passed at 2026-03-01T12:00:03Z")},
			},
		},
		"root cause wins: a predecessor that failed at the successor's deadline": {
			snap: snap(MakeMember("a").Seq(0, 2).Reported(&batonv1.OperatorCommandStatusError{Reason: "Boom"}),
				MakeMember("b").Seq(1, 2).TTL(3*time.Second)),
			now: at(5 * time.Second),
			want: result{
				Sequence: seqBoom,
				Members: map[string]outcome{
					"a": boomRecorded,
					"b": finished(batonv1.CommandSkipped, batonv1.ReasonPredecessorFailed, "command a failed (Boom)"),
				},
				Events: eventsBoom,
			},
		},
		"a successor whose own deadline came before its predecessor's failure expires": {
			snap: snap(MakeMember("a").Seq(0, 2).Reported(&batonv1.OperatorCommandStatusError{Reason: "Boom"}),
				MakeMember("b").Seq(1, 2).TTL(2*time.Second)),
			now: at(5 * time.Second),
			want: result{
				Sequence: seqBoom,
				Members: map[string]outcome{
					"a": boomRecorded,
					"b": finished(batonv1.CommandExpired, batonv1.ReasonExpired, "TTL 2s from creation passed at 2026-03-01T12:00:02Z"),
				},
				Events: eventsBoom,
			},
		},
		"DefaultTTL applies where the TTL is 0, and wakes the caller": {
			snap: snap(MakeMember("a").InFlight().Running()),
			opts: Options{DefaultTTL: time.Minute},
			now:  at(30 * time.Second),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"},
				Members:  map[string]outcome{"a": runningQuiet},
				Events:   running(1),
				NextWake: at(time.Minute),
			},
		},
		"a running in-process handler expires at DefaultTTL": {
			snap: snap(MakeMember("a").InFlight().Running()),
			opts: Options{DefaultTTL: time.Minute},
			now:  at(time.Minute),
			want: result{
				Sequence: seqExpired("a", expired1m),
				Members:  map[string]outcome{"a": finished(batonv1.CommandExpired, batonv1.ReasonExpired, expired1m)},
				Events:   []Event{startEvent(1), ended(batonv1.SequenceFailed, "command a expired (Expired): "+expired1m)},
			},
		},
		"a negative TTL reads as 0": {
			snap: snap(MakeMember("a").InFlight().Running().TTL(-time.Hour)),
			opts: Options{DefaultTTL: time.Minute},
			now:  at(time.Minute),
			want: result{
				Sequence: seqExpired("a", expired1m),
				Members:  map[string]outcome{"a": finished(batonv1.CommandExpired, batonv1.ReasonExpired, expired1m)},
				Events:   []Event{startEvent(1), ended(batonv1.SequenceFailed, "command a expired (Expired): "+expired1m)},
			},
		},
		"the command's own TTL wins over DefaultTTL": {
			snap: snap(MakeMember("a").InFlight().Running().TTL(time.Hour)),
			opts: Options{DefaultTTL: time.Minute},
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"},
				Members:  map[string]outcome{"a": runningQuiet},
				Events:   running(1),
				NextWake: at(time.Hour),
			},
		},
		"no TTL and no default: never expires, nothing to wake for": {
			snap: snap(MakeMember("a").InFlight().Running()),
			now:  at(1000 * time.Hour),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"},
				Members:  map[string]outcome{"a": runningQuiet},
				Events:   running(1),
			},
		},
		"a huge TTL saturates instead of overflowing": {
			snap: snap(MakeMember("a").InFlight().Running().TTL(math.MaxInt64)),
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "0/1", Message: "running: 0/1 commands finished"},
				Members:  map[string]outcome{"a": runningQuiet},
				Events:   running(1),
				NextWake: t0.Add(math.MaxInt64),
			},
		},
		"the next wake-up is the earliest deadline of an unfinished member": {
			snap: snap(
				MakeMember("a").Seq(0, 3).TTL(time.Minute).Succeeded(""),
				MakeMember("b").Seq(1, 3).TTL(5*time.Minute).Running().InFlight(),
				MakeMember("c").Seq(2, 3).TTL(3*time.Minute).Phase(batonv1.CommandPending),
			),
			now: at(2 * time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "1/3", CurrentBatch: ptr(1), Message: "batch 1 running: 1/3 commands finished"},
				Members: map[string]outcome{
					"a": succeededQuiet, "b": runningQuiet,
					"c": {Phase: batonv1.CommandPending, Recorded: batonv1.CommandPending},
				},
				Events:   running(3),
				NextWake: at(3 * time.Minute),
			},
		},
	})
}

// TestExpiredStatus checks the whole status an expiry writes: completedAt is now (to the
// second, as stored), not the deadline; the executor's fields stay.
func TestExpiredStatus(t *testing.T) {
	s := snap(MakeMember("a").TTL(time.Minute).Running().InFlight())
	now := at(90*time.Second + 300*time.Millisecond)
	got := Decide(s, Options{}, now).Members[0]
	want := batonv1.OperatorCommandStatus{
		Phase: batonv1.CommandExpired, Started: true, StartedAt: mt(time.Second), Executer: "pod-1", Attempts: 1,
		Completed: true, CompletedAt: &metav1.Time{Time: at(90 * time.Second)},
		Error:   &batonv1.OperatorCommandStatusError{Reason: batonv1.ReasonExpired, Message: "TTL 1m0s from creation passed at 2026-03-01T12:01:00Z"},
		Message: "TTL 1m0s from creation passed at 2026-03-01T12:01:00Z",
	}
	if diff := cmp.Diff(want, *got.Status); diff != "" {
		t.Errorf("expired status (-want +got):\n%s", diff)
	}
	if !got.Deadline.Equal(at(time.Minute)) {
		t.Errorf("Deadline = %v, want %v", got.Deadline, at(time.Minute))
	}
}
