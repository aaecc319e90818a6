package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// t0 is when the test commands are created; tests move now around it.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func mt(d time.Duration) *metav1.Time { return &metav1.Time{Time: at(d)} }

func ptr[T any](v T) *T { return &v }

// memberWrapper builds a Member the kueue way: MakeMember("a").Seq(0, 2).Obj().
type memberWrapper struct{ Member }

// MakeMember is an in-process command created at t0, with no TTL, outside any sequence.
func MakeMember(name string) *memberWrapper {
	return &memberWrapper{Member{
		Name:              name,
		CommandType:       "noop",
		CreationTimestamp: t0,
		HasHandler:        true,
	}}
}

func (w *memberWrapper) Obj() *Member { m := w.Member; return &m }

// Seq makes it member index of a sequence of count.
func (w *memberWrapper) Seq(index, count int) *memberWrapper {
	w.Index, w.Count = ptr(index), ptr(count)
	return w
}

func (w *memberWrapper) IndexOnly(index int) *memberWrapper { w.Index = ptr(index); return w }
func (w *memberWrapper) CountOnly(count int) *memberWrapper { w.Count = ptr(count); return w }
func (w *memberWrapper) NoIndex() *memberWrapper            { w.Index = nil; return w }

// External has no in-process handler.
func (w *memberWrapper) External() *memberWrapper {
	w.HasHandler = false
	w.CommandType = "scan"
	return w
}

func (w *memberWrapper) TTL(d time.Duration) *memberWrapper { w.Member.TTL = d; return w }
func (w *memberWrapper) Created(d time.Duration) *memberWrapper {
	w.CreationTimestamp = at(d)
	return w
}
func (w *memberWrapper) Idempotent() *memberWrapper { w.Member.Idempotent = true; return w }
func (w *memberWrapper) InFlight() *memberWrapper {
	w.Member.InFlight, w.Member.Held = true, true
	return w
}
func (w *memberWrapper) Queued() *memberWrapper               { w.Member.Held = true; return w }
func (w *memberWrapper) Args(a map[string]any) *memberWrapper { w.Member.Args = a; return w }
func (w *memberWrapper) When(expression string) *memberWrapper {
	return w.Ann(batonv1.AnnotationWhen, expression)
}
func (w *memberWrapper) Retries(v string) *memberWrapper { return w.Ann(batonv1.AnnotationRetries, v) }
func (w *memberWrapper) HoldLabels(jsonObj string) *memberWrapper {
	return w.Ann(batonv1.AnnotationGateLabels, jsonObj)
}
func (w *memberWrapper) ContinueOnFailure() *memberWrapper {
	return w.Ann(batonv1.AnnotationContinueOnFailure, "true")
}
func (w *memberWrapper) GateOpened() *memberWrapper {
	return w.Label(batonv1.LabelGate, batonv1.GateOpen)
}
func (w *memberWrapper) Status(st batonv1.OperatorCommandStatus) *memberWrapper {
	w.Member.Status = st
	return w
}

func (w *memberWrapper) Ann(k, v string) *memberWrapper {
	if w.Annotations == nil {
		w.Annotations = map[string]string{}
	}
	w.Annotations[k] = v
	return w
}

func (w *memberWrapper) Label(k, v string) *memberWrapper {
	if w.Labels == nil {
		w.Labels = map[string]string{}
	}
	w.Labels[k] = v
	return w
}

// Phase records a non-terminal phase without executor fields.
func (w *memberWrapper) Phase(p batonv1.CommandPhase) *memberWrapper {
	w.Member.Status.Phase = p
	return w
}

// Running: claimed at +1s by pod-1, recorded Running.
func (w *memberWrapper) Running() *memberWrapper {
	w.Member.Status = batonv1.OperatorCommandStatus{
		Phase: batonv1.CommandRunning, Started: true, StartedAt: mt(time.Second), Executer: "pod-1", Attempts: 1,
	}
	return w
}

// Succeeded: ran from +1s to +3s, recorded Succeeded, with payload.
func (w *memberWrapper) Succeeded(payload string) *memberWrapper {
	w.Member.Status = batonv1.OperatorCommandStatus{
		Phase: batonv1.CommandSucceeded, Started: true, StartedAt: mt(time.Second), Completed: true,
		CompletedAt: mt(3 * time.Second), Executer: "pod-1", Attempts: 1,
	}
	if payload != "" {
		w.Member.Status.Payload = []byte(payload)
	}
	return w
}

// Failed: ran from +1s to +3s, recorded Failed with reason.
func (w *memberWrapper) Failed(reason, message string) *memberWrapper {
	w.Succeeded("")
	w.Member.Status.Phase = batonv1.CommandFailed
	w.Member.Status.Error = &batonv1.OperatorCommandStatusError{Reason: reason, Message: message}
	return w
}

// Skipped: recorded Skipped by baton at +3s.
func (w *memberWrapper) Skipped(reason, message string) *memberWrapper {
	w.Member.Status = batonv1.OperatorCommandStatus{
		Phase: batonv1.CommandSkipped, Completed: true, CompletedAt: mt(3 * time.Second), Message: message,
		Error: &batonv1.OperatorCommandStatusError{Reason: reason, Message: message},
	}
	return w
}

// Reported: the executor reports completion (error nil: success) without baton's phase.
func (w *memberWrapper) Reported(e *batonv1.OperatorCommandStatusError) *memberWrapper {
	w.Member.Status.Started = true
	w.Member.Status.Completed = true
	w.Member.Status.CompletedAt = mt(3 * time.Second)
	w.Member.Status.Error = e
	return w
}

func snap(ms ...*memberWrapper) Snapshot {
	s := Snapshot{Namespace: "ns", Key: "seq"}
	for _, m := range ms {
		s.Members = append(s.Members, m.Obj())
	}
	return s
}

// outcome is what a test asserts about one member's plan.
type outcome struct {
	Action      ActionType
	Phase       batonv1.CommandPhase // MemberPlan.Phase
	Recorded    batonv1.CommandPhase // MemberPlan.Status.Phase
	Reason      string               // MemberPlan.Status.Error.Reason
	Message     string               // MemberPlan.Status.Message
	GateLabels  map[string]string
	MaxAttempts int
	Events      []Event
}

// seqOutcome is what a test asserts about the sequence status.
type seqOutcome struct {
	Phase        batonv1.SequencePhase
	Reason       string
	Message      string
	Progress     string
	FailedMember string
	CurrentBatch *int
}

type result struct {
	Sequence seqOutcome
	Members  map[string]outcome
	Events   []Event
	NextWake time.Time
}

func summarize(s Snapshot, opts Options, p Plan) result {
	r := result{
		Sequence: seqOutcome{
			Phase: p.Status.Phase, Reason: p.Status.Reason, Message: p.Status.Message,
			Progress: p.Status.Progress, FailedMember: p.Status.FailedMember, CurrentBatch: p.Status.CurrentBatch,
		},
		Members:  map[string]outcome{},
		Events:   p.Events,
		NextWake: p.NextWake,
	}
	for _, mp := range everyPlan(s, opts, p) {
		o := outcome{
			Action: mp.Action, Phase: mp.Phase, Recorded: mp.Status.Phase, Message: mp.Status.Message,
			GateLabels: mp.GateLabels, MaxAttempts: mp.MaxAttempts, Events: mp.Events,
		}
		if mp.Status.Error != nil {
			o.Reason = mp.Status.Error.Reason
		}
		r.Members[mp.Name] = o
	}
	return r
}

type decideCase struct {
	snap Snapshot
	opts Options
	now  time.Time
	want result
}

func runDecideCases(t *testing.T, cases map[string]decideCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := summarize(tc.snap, tc.opts, Decide(tc.snap, tc.opts, tc.now))
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// running is the event of a sequence of n commands that starts running.
func running(n int) []Event { return []Event{startEvent(n)} }

func startEvent(n int) Event {
	return Event{Reason: batonv1.EventSequenceRunning, Message: fmt.Sprintf("started: all %d commands present", n), PhaseChange: true}
}

// ended is the end event of a sequence that ends in phase with message.
func ended(phase batonv1.SequencePhase, message string) Event {
	return Event{Reason: batonv1.EventReason(phase), Message: message, PhaseChange: true}
}

// Shorthands for the outcomes that repeat.
var (
	pendingQuiet = outcome{Phase: batonv1.CommandPending}
	runNow       = outcome{Action: ActionRun, Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady,
		Message: msgReadyInProcess, MaxAttempts: 1}
	openGate = outcome{Action: ActionOpenGate, Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady,
		Message: msgReadyExternal, GateLabels: map[string]string{batonv1.LabelGate: batonv1.GateOpen},
		Events: []Event{{Reason: "Ready", Message: msgReadyExternal}}}
	succeededQuiet = outcome{Phase: batonv1.CommandSucceeded, Recorded: batonv1.CommandSucceeded}
	runningQuiet   = outcome{Phase: batonv1.CommandRunning, Recorded: batonv1.CommandRunning}
)

// finished is the outcome of a member baton completes in this plan.
func finished(phase batonv1.CommandPhase, reason, message string) outcome {
	return outcome{
		Action: ActionSetStatus, Phase: phase, Recorded: phase, Reason: reason, Message: message,
		Events: []Event{{Warning: phase != batonv1.CommandSkipped || reason == batonv1.ReasonPredecessorFailed,
			Reason: batonv1.EventReason(reason), Message: message}},
	}
}

func diffResult(t *testing.T, want, got result) {
	t.Helper()
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Decide() mismatch (-want +got):\n%s", diff)
	}
}
