package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestSequenceStatus(t *testing.T) {
	now := at(time.Minute + 500*time.Millisecond) // stored to the second
	stamp := metav1.Time{Time: at(time.Minute)}
	earlier := metav1.Time{Time: at(-time.Hour)}
	cond := func(typ string, status metav1.ConditionStatus, reason, msg string, ltt metav1.Time) metav1.Condition {
		return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: ltt, ObservedGeneration: 7}
	}
	running := "batch 0 running: 0/2 commands finished"
	twoMembers := func(a, b *memberWrapper, prev *batonv1.CommandSequenceStatus) Snapshot {
		s := snap(a, b)
		s.Sequence = prev
		return s
	}
	report := &batonv1.SequenceReport{Complete: true, Members: []batonv1.ReportMember{
		{Name: "a", Index: ptr(0), CommandType: "noop", Phase: batonv1.CommandSucceeded, Attempts: 1, Executer: "pod-1",
			StartedAt: mt(time.Second), CompletedAt: mt(3 * time.Second), Duration: "2s"},
		{Name: "b", Index: ptr(1), CommandType: "noop", Phase: batonv1.CommandSucceeded, Attempts: 1, Executer: "pod-1",
			StartedAt: mt(time.Second), CompletedAt: mt(3 * time.Second), Duration: "2s"},
	}}
	finishedStatus := batonv1.CommandSequenceStatus{
		Phase: batonv1.SequenceSucceeded, Message: "all 2 commands finished", Progress: "2/2",
		Counts: batonv1.SequenceCounts{Total: 2, Succeeded: 2}, CurrentBatch: ptr(1), StartedAt: &earlier,
		CompletedAt: &stamp, ObservedGeneration: 7, Report: report,
		Conditions: []metav1.Condition{
			cond(ConditionAssembled, metav1.ConditionTrue, "Assembled", "all 2 commands present", earlier),
			cond(ConditionSucceeded, metav1.ConditionTrue, "Succeeded", "all 2 commands finished", stamp),
		},
	}

	cases := map[string]struct {
		snap Snapshot
		want batonv1.CommandSequenceStatus
	}{
		"first plan of a running sequence: startedAt and transition times are now": {
			snap: twoMembers(MakeMember("a").Seq(0, 2), MakeMember("b").Seq(1, 2), &batonv1.CommandSequenceStatus{ObservedGeneration: 7}),
			want: batonv1.CommandSequenceStatus{
				Phase: batonv1.SequenceRunning, Message: running, Progress: "0/2", Counts: batonv1.SequenceCounts{Total: 2},
				CurrentBatch: ptr(0), StartedAt: &stamp, ObservedGeneration: 7,
				Conditions: []metav1.Condition{
					cond(ConditionAssembled, metav1.ConditionTrue, "Assembled", "all 2 commands present", stamp),
					cond(ConditionSucceeded, metav1.ConditionUnknown, "Running", running, stamp),
				},
			},
		},
		"an unchanged condition keeps its transition time; startedAt stays": {
			snap: twoMembers(MakeMember("a").Seq(0, 2).Running().InFlight(), MakeMember("b").Seq(1, 2).Phase(batonv1.CommandPending),
				&batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, StartedAt: &earlier, ObservedGeneration: 7,
					Conditions: []metav1.Condition{
						cond(ConditionAssembled, metav1.ConditionTrue, "Assembled", "all 2 commands present", earlier),
						cond(ConditionSucceeded, metav1.ConditionUnknown, "Running", "older words", earlier),
					}}),
			want: batonv1.CommandSequenceStatus{
				Phase: batonv1.SequenceRunning, Message: running, Progress: "0/2", Counts: batonv1.SequenceCounts{Total: 2},
				CurrentBatch: ptr(0), StartedAt: &earlier, ObservedGeneration: 7,
				Conditions: []metav1.Condition{
					cond(ConditionAssembled, metav1.ConditionTrue, "Assembled", "all 2 commands present", earlier),
					cond(ConditionSucceeded, metav1.ConditionUnknown, "Running", running, earlier),
				},
			},
		},
		"the plan that finishes the sequence: completedAt, report, Succeeded True": {
			snap: twoMembers(MakeMember("a").Seq(0, 2).Succeeded(""), MakeMember("b").Seq(1, 2).Succeeded(""),
				&batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, StartedAt: &earlier, ObservedGeneration: 7,
					Conditions: []metav1.Condition{
						cond(ConditionAssembled, metav1.ConditionTrue, "Assembled", "all 2 commands present", earlier),
						cond(ConditionSucceeded, metav1.ConditionUnknown, "Running", running, earlier),
					}}),
			want: finishedStatus,
		},
		"a finished sequence never changes": {
			snap: twoMembers(MakeMember("a").Seq(0, 2).Succeeded(""), MakeMember("b").Seq(1, 2).Failed("Late", "rewritten"),
				finishedStatus.DeepCopy()),
			want: finishedStatus,
		},
		"a finished sequence recorded without report gets one": {
			snap: func() Snapshot {
				prev := finishedStatus.DeepCopy()
				prev.Report = nil
				return twoMembers(MakeMember("a").Seq(0, 2).Succeeded(""), MakeMember("b").Seq(1, 2).Succeeded(""), prev)
			}(),
			want: finishedStatus,
		},
		"a reason the API would refuse in a condition reads as Failed there": {
			snap: twoMembers(MakeMember("a").Seq(0, 2).Failed("exit code 1", "boom"), MakeMember("b").Seq(1, 2).Skipped(
				batonv1.ReasonPredecessorFailed, "command a failed (exit code 1)"),
				&batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, StartedAt: &earlier, ObservedGeneration: 7}),
			want: batonv1.CommandSequenceStatus{
				Phase: batonv1.SequenceFailed, Reason: "exit code 1", Message: "command a failed (exit code 1): boom", Progress: "2/2",
				Counts: batonv1.SequenceCounts{Total: 2, Failed: 1, Skipped: 1}, CurrentBatch: ptr(0), StartedAt: &earlier,
				CompletedAt: &stamp, ObservedGeneration: 7, FailedMember: "a",
				Report: &batonv1.SequenceReport{Complete: true, Members: []batonv1.ReportMember{
					{Name: "a", Index: ptr(0), CommandType: "noop", Phase: batonv1.CommandFailed, Reason: "exit code 1", Attempts: 1,
						Executer: "pod-1", StartedAt: mt(time.Second), CompletedAt: mt(3 * time.Second), Duration: "2s",
						Error: &batonv1.OperatorCommandStatusError{Reason: "exit code 1", Message: "boom"}},
					{Name: "b", Index: ptr(1), CommandType: "noop", Phase: batonv1.CommandSkipped, Reason: batonv1.ReasonPredecessorFailed,
						CompletedAt: mt(3 * time.Second),
						Error:       &batonv1.OperatorCommandStatusError{Reason: batonv1.ReasonPredecessorFailed, Message: "command a failed (exit code 1)"}},
				}},
				Conditions: []metav1.Condition{
					cond(ConditionAssembled, metav1.ConditionTrue, "Assembled", "all 2 commands present", stamp),
					cond(ConditionSucceeded, metav1.ConditionFalse, "Failed", "command a failed (exit code 1): boom", stamp),
				},
			},
		},
		"no members and no record: assembling": {
			snap: Snapshot{Key: "seq"},
			want: batonv1.CommandSequenceStatus{
				Phase: batonv1.SequenceAssembling, Message: "waiting for commands: 0 of 0 present", Progress: "0/0",
				Conditions: []metav1.Condition{
					{Type: ConditionAssembled, Status: metav1.ConditionFalse, Reason: "Assembling", Message: "0 of 0 commands present", LastTransitionTime: stamp},
					{Type: ConditionSucceeded, Status: metav1.ConditionUnknown, Reason: "Assembling", Message: "waiting for commands: 0 of 0 present", LastTransitionTime: stamp},
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Decide(tc.snap, Options{}, now).Status
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Plan.Status (-want +got):\n%s", diff)
			}
		})
	}

	// With every command gone, an unfinished sequence fails with CommandsDeleted; its report
	// keeps what the counters knew.
	assembled := metav1.Condition{Type: ConditionAssembled, Status: metav1.ConditionTrue, Reason: reasonAssembled, LastTransitionTime: earlier}
	prev := &batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, Progress: "1/3", StartedAt: &earlier,
		Counts: batonv1.SequenceCounts{Total: 3, Succeeded: 1}, Conditions: []metav1.Condition{assembled,
			{Type: ConditionSucceeded, Status: metav1.ConditionUnknown, Reason: "Running", LastTransitionTime: earlier}}}
	deletedMsg := `every command of sequence "k" was deleted before it finished (1/3 finished)`
	want := batonv1.CommandSequenceStatus{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonCommandsDeleted, Message: deletedMsg,
		Progress: "1/3", Counts: prev.Counts, StartedAt: &earlier, CompletedAt: &metav1.Time{Time: now.Truncate(time.Second)},
		Conditions: []metav1.Condition{assembled, {Type: ConditionSucceeded, Status: metav1.ConditionFalse,
			Reason: batonv1.ReasonCommandsDeleted, Message: deletedMsg, LastTransitionTime: metav1.Time{Time: now.Truncate(time.Second)}}},
		Report: &batonv1.SequenceReport{Members: []batonv1.ReportMember{},
			Omitted: map[batonv1.CommandPhase]int32{batonv1.CommandSucceeded: 1, batonv1.CommandPending: 2}}}
	plan := Decide(Snapshot{Key: "k", Sequence: prev}, Options{}, now)
	if diff := cmp.Diff(want, plan.Status); diff != "" {
		t.Errorf("status without members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Event{ended(batonv1.SequenceFailed, deletedMsg)}, plan.Events); diff != "" {
		t.Errorf("events without members (-want +got):\n%s", diff)
	}
	// One whose status was never written (its members vanished within its first progress
	// interval) fails too: its CommandSequence exists because a member was seen.
	neverMsg := `every command of sequence "k" was deleted before its status was first written`
	never := Decide(Snapshot{Key: "k", Sequence: &batonv1.CommandSequenceStatus{}}, Options{}, now)
	wantNever := batonv1.CommandSequenceStatus{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonCommandsDeleted, Message: neverMsg,
		CompletedAt: &metav1.Time{Time: now.Truncate(time.Second)},
		Conditions: []metav1.Condition{{Type: ConditionSucceeded, Status: metav1.ConditionFalse,
			Reason: batonv1.ReasonCommandsDeleted, Message: neverMsg, LastTransitionTime: metav1.Time{Time: now.Truncate(time.Second)}}},
		Report: &batonv1.SequenceReport{Members: []batonv1.ReportMember{}, Omitted: map[batonv1.CommandPhase]int32{}}}
	if diff := cmp.Diff(wantNever, never.Status); diff != "" {
		t.Errorf("status never written, without members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Event{ended(batonv1.SequenceFailed, neverMsg)}, never.Events); diff != "" {
		t.Errorf("events of a status never written, without members (-want +got):\n%s", diff)
	}
	// A finished one, or one that never counted a command, is kept as it is.
	for _, kept := range []*batonv1.CommandSequenceStatus{&want, {Phase: batonv1.SequenceAssembling, Progress: "0/0"}} {
		if diff := cmp.Diff(*kept, Decide(Snapshot{Key: "k", Sequence: kept}, Options{}, now).Status); diff != "" {
			t.Errorf("status without members (-want +got):\n%s", diff)
		}
	}
}
