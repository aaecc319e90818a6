package engine

import (
	"testing"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestDecideCancel(t *testing.T) {
	cancelled := func(s Snapshot) Snapshot { s.Cancelled = true; return s }
	waiting := msgCancelled + "; waiting for the commands already started to finish"
	runDecideCases(t, map[string]decideCase{
		"members not started are Skipped with Cancelled; a running handler is left to the runner": {
			snap: cancelled(snap(MakeMember("a").Seq(0, 3).Running().InFlight(), MakeMember("b").Seq(0, 3),
				MakeMember("c").Seq(1, 3))),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceRunning, Progress: "2/3", Message: waiting, CurrentBatch: ptr(0)},
				Members: map[string]outcome{
					"a": runningQuiet,
					"b": finished(batonv1.CommandSkipped, batonv1.ReasonCancelled, msgCancelled),
					"c": finished(batonv1.CommandSkipped, batonv1.ReasonCancelled, msgCancelled),
				},
				Events: running(3),
			},
		},
		"once nothing runs, the sequence fails with Cancelled": {
			snap: cancelled(snap(MakeMember("a").Seq(0, 2).Failed(batonv1.ReasonCancelled, "context cancelled"),
				MakeMember("b").Seq(1, 2))),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonCancelled, Progress: "2/2", Message: msgCancelled,
					CurrentBatch: ptr(0)},
				Members: map[string]outcome{
					"a": {Phase: batonv1.CommandFailed, Recorded: batonv1.CommandFailed, Reason: batonv1.ReasonCancelled},
					"b": finished(batonv1.CommandSkipped, batonv1.ReasonCancelled, msgCancelled),
				},
				Events: []Event{startEvent(2), ended(batonv1.SequenceFailed, msgCancelled)},
			},
		},
		"a finished sequence is not cancelled again": {
			snap: func() Snapshot {
				s := cancelled(snap(MakeMember("a").Seq(0, 1).Succeeded("")))
				s.Sequence = &batonv1.CommandSequenceStatus{Phase: batonv1.SequenceSucceeded, Progress: "1/1", Message: "all 1 commands finished"}
				return s
			}(),
			now: at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceSucceeded, Progress: "1/1", Message: "all 1 commands finished"},
				Members:  map[string]outcome{"a": succeededQuiet},
			},
		},
	})
}
