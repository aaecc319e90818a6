package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// TestPhaseEvents: a sequence gets one Normal event when it starts running and one when
// it ends, marked PhaseChange; Warnings on the sequence are not. A sequence whose Running
// status was never written (the controller coalesces it) gets both from the plan that
// ends it, start first, and its final status carries startedAt and the current batch.
func TestPhaseEvents(t *testing.T) {
	withSeq := func(s Snapshot, st *batonv1.CommandSequenceStatus) Snapshot { s.Sequence = st; return s }
	runningStatus := &batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, StartedAt: mt(time.Second), CurrentBatch: ptr(0)}
	type want struct {
		Phase        batonv1.SequencePhase
		StartedAt    *metav1.Time
		CompletedAt  *metav1.Time
		CurrentBatch *int
		Events       []Event
	}
	cases := map[string]struct {
		snap Snapshot
		now  time.Time
		want want
	}{
		"assembled, no status yet: the start event": {
			snap: snap(MakeMember("a").Seq(0, 2), MakeMember("b").Seq(1, 2)),
			now:  at(time.Second),
			want: want{Phase: batonv1.SequenceRunning, StartedAt: mt(time.Second), CurrentBatch: ptr(0), Events: running(2)},
		},
		"still assembling: no event (no Created either)": {
			snap: snap(MakeMember("a").Seq(0, 2)),
			now:  at(time.Second),
			want: want{Phase: batonv1.SequenceAssembling},
		},
		"Running written: the end event alone, the summary with its duration": {
			snap: withSeq(snap(MakeMember("a").Seq(0, 2).Succeeded(""), MakeMember("b").Seq(1, 2).Succeeded("")), runningStatus),
			now:  at(13 * time.Second),
			want: want{Phase: batonv1.SequenceSucceeded, StartedAt: mt(time.Second), CompletedAt: mt(13 * time.Second), CurrentBatch: ptr(1),
				Events: []Event{ended(batonv1.SequenceSucceeded, "2/2 succeeded in 12s")}},
		},
		"Assembling straight to Succeeded: start then end, in one plan, started when its first member did": {
			snap: withSeq(snap(MakeMember("a").Seq(0, 2).Succeeded(""), MakeMember("b").Seq(1, 2).Succeeded("")),
				&batonv1.CommandSequenceStatus{Phase: batonv1.SequenceAssembling}),
			now: at(3 * time.Second),
			want: want{Phase: batonv1.SequenceSucceeded, StartedAt: mt(time.Second), CompletedAt: mt(3 * time.Second), CurrentBatch: ptr(1),
				Events: []Event{startEvent(2), ended(batonv1.SequenceSucceeded, "2/2 succeeded in 2s")}},
		},
		"a retry's copies keep their original's times: started no earlier than its last member's creation": {
			snap: snap(MakeMember("copy").Seq(0, 2).Succeeded(""), MakeMember("again").Seq(1, 2).Created(10*time.Second).
				Status(batonv1.OperatorCommandStatus{Phase: batonv1.CommandSucceeded, Started: true, StartedAt: mt(11 * time.Second),
					Completed: true, CompletedAt: mt(12 * time.Second)})),
			now: at(12 * time.Second),
			want: want{Phase: batonv1.SequenceSucceeded, StartedAt: mt(11 * time.Second), CompletedAt: mt(12 * time.Second), CurrentBatch: ptr(1),
				Events: []Event{startEvent(2), ended(batonv1.SequenceSucceeded, "2/2 succeeded in 1s")}},
		},
		"no member reports a start yet: this plan's instant": {
			snap: snap(MakeMember("a").Seq(0, 1).External()),
			now:  at(5 * time.Second),
			want: want{Phase: batonv1.SequenceRunning, StartedAt: mt(5 * time.Second), CurrentBatch: ptr(0), Events: running(1)},
		},
		"a failure: a Normal end event naming the failed member": {
			snap: withSeq(snap(MakeMember("a").Seq(0, 2).Failed(batonv1.ReasonHandlerFailed, "boom"), MakeMember("b").Seq(1, 2).
				Skipped(batonv1.ReasonPredecessorFailed, "command a failed (HandlerFailed)")), runningStatus),
			now: at(5 * time.Second),
			want: want{Phase: batonv1.SequenceFailed, StartedAt: mt(time.Second), CompletedAt: mt(5 * time.Second), CurrentBatch: ptr(0),
				Events: []Event{ended(batonv1.SequenceFailed, "command a failed (HandlerFailed): boom")}},
		},
		"a broken assembly never started: the end event alone": {
			snap: snap(MakeMember("a").Seq(0, 2), MakeMember("b").Seq(1, 3)),
			now:  at(time.Second),
			want: want{Phase: batonv1.SequenceFailed, CompletedAt: mt(time.Second),
				Events: []Event{ended(batonv1.SequenceFailed, "commands disagree on commandCount: a has 2, b has 3")}},
		},
		"cancelled in its first second, Running never written: the batch it stopped": {
			snap: func() Snapshot {
				s := snap(MakeMember("a").Seq(0, 3).Succeeded(""), MakeMember("b").Seq(1, 3).Failed(batonv1.ReasonCancelled, "cancelled"),
					MakeMember("c").Seq(2, 3))
				s.Cancelled = true
				return s
			}(),
			now: at(time.Second),
			want: want{Phase: batonv1.SequenceFailed, StartedAt: mt(time.Second), CompletedAt: mt(time.Second), CurrentBatch: ptr(1),
				Events: []Event{startEvent(3), ended(batonv1.SequenceFailed, msgCancelled)}},
		},
		"a warning on the sequence is no phase event": {
			snap: withSeq(snap(MakeMember("a").Seq(0, 2).Running().InFlight(),
				MakeMember("b").Seq(1, 2).External().Label(batonv1.LabelAppName, "operator")), runningStatus),
			now: at(2 * time.Second),
			want: want{Phase: batonv1.SequenceRunning, StartedAt: mt(time.Second), CurrentBatch: ptr(0),
				Events: []Event{{Warning: true, Reason: batonv1.ReasonUngated, Message: "command b carries routing label " +
					batonv1.LabelAppName + " before its gate opened: its executor may run it out of turn; submit it with the label " +
					"held in annotation " + batonv1.AnnotationGateLabels}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := Decide(tc.snap, Options{}, tc.now)
			got := want{Phase: p.Status.Phase, StartedAt: p.Status.StartedAt, CompletedAt: p.Status.CompletedAt,
				CurrentBatch: p.Status.CurrentBatch, Events: p.Events}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
