package engine

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestDecideConditions(t *testing.T) {
	b := func(when string) Snapshot {
		return snap(
			MakeMember("fetch").Seq(0, 2).Succeeded(`{"count": 3}`),
			MakeMember("b").Seq(1, 2).Phase(batonv1.CommandPending).When(when).Args(map[string]any{"mode": "fast"}),
		)
	}
	seq := func(progress string, batch int, msg string) seqOutcome {
		return seqOutcome{Phase: batonv1.SequenceRunning, Progress: progress, CurrentBatch: ptr(batch), Message: msg}
	}
	readyRun := outcome{Action: ActionRun, Phase: batonv1.CommandReady, Recorded: batonv1.CommandReady, Message: msgReadyInProcess,
		MaxAttempts: 1}
	invalid := func(when, msg string) decideCase {
		full := fmt.Sprintf("condition %q: %s", when, msg)
		return decideCase{
			snap: b(when),
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceFailed, Reason: batonv1.ReasonInvalidCondition, Progress: "2/2", CurrentBatch: ptr(1),
					FailedMember: "b", Message: "command b failed (InvalidCondition): " + full},
				Members: map[string]outcome{"fetch": succeededQuiet, "b": finished(batonv1.CommandFailed, batonv1.ReasonInvalidCondition, full)},
				Events:  []Event{startEvent(2), ended(batonv1.SequenceFailed, "command b failed (InvalidCondition): "+full)},
			},
		}
	}
	long := strings.Repeat("1+", 600) + "1 > 0"

	runDecideCases(t, map[string]decideCase{
		"a true condition over steps by name and index, batches, args and sequence: the step runs": {
			snap: b(`steps.fetch.payload.count > 2 && steps["0"].phase == "Succeeded" && batches[0][0].name == "fetch" && ` +
				`args.mode == "fast" && sequence.count == 2 && sequence.key == "seq" && steps.missing.phase == ""`),
			now: at(time.Minute),
			want: result{
				Sequence: seq("1/2", 1, "batch 1 running: 1/2 commands finished"),
				Members:  map[string]outcome{"fetch": succeededQuiet, "b": readyRun},
				Events:   running(2),
			},
		},
		"a false condition: Skipped, ConditionFalse, and the sequence succeeds": {
			snap: b(`steps.fetch.payload.count > 5`),
			now:  at(time.Minute),
			want: result{
				Sequence: seqOutcome{Phase: batonv1.SequenceSucceeded, Progress: "2/2", CurrentBatch: ptr(1), Message: "all 2 commands finished"},
				Members: map[string]outcome{"fetch": succeededQuiet,
					"b": finished(batonv1.CommandSkipped, batonv1.ReasonConditionFalse, `condition "steps.fetch.payload.count > 5" is false`)},
				Events: []Event{startEvent(2), ended(batonv1.SequenceSucceeded, "1/2 succeeded, 1 skipped in 59s")},
			},
		},
		"a condition that does not compile: InvalidCondition": invalid("steps.", "compiling expression: unexpected end of expression (1:6)"),
		"a condition that is not a bool: InvalidCondition":    invalid("1 + 1", "compiling expression: expected bool, but got int"),
		"a condition whose value is not a bool at run time: InvalidCondition": invalid("steps.fetch.payload.count",
			"evaluating expression: invalid operation: bool(float64) (1:1)"),
		"a condition failing at run time: InvalidCondition": invalid("steps.fetch.payload.x.y > 1",
			"evaluating expression: cannot fetch y from <nil> (1:23)"),
		"a condition reading the clock: InvalidCondition": invalid("now() > date('2020-01-01')",
			"compiling expression: unknown name now (1:1)"),
		"a condition over the node limit: InvalidCondition": func() decideCase {
			c := invalid(long, "compiling expression: compilation failed: expression exceeds maximum allowed nodes (1:1002)")
			// The message quotes at most 200 bytes of the expression.
			full := fmt.Sprintf("condition %q: %s", clipTo(long, 200), "compiling expression: compilation failed: expression exceeds maximum allowed nodes (1:1002)")
			c.want.Members["b"] = finished(batonv1.CommandFailed, batonv1.ReasonInvalidCondition, full)
			c.want.Sequence.Message = "command b failed (InvalidCondition): " + full
			c.want.Events = []Event{startEvent(2), ended(batonv1.SequenceFailed, "command b failed (InvalidCondition): "+full)}
			return c
		}(),
	})
}

func TestEvaluate(t *testing.T) {
	env := Env{
		Steps:    map[string]StepView{"a": {Name: "a", Phase: "Succeeded", Payload: map[string]any{"n": 2.0}}},
		Batches:  map[int][]StepView{0: {{Name: "a"}}},
		Args:     map[string]any{"x": "y"},
		Sequence: SequenceView{Key: "k", Namespace: "ns", Count: 3},
	}
	cases := map[string]struct {
		expression string
		want       any
		wantErr    string
	}{
		"arithmetic over a payload":        {expression: "steps.a.payload.n * 2", want: 4.0},
		"a string from args":               {expression: `args.x + "z"`, want: "yz"},
		"sequence fields":                  {expression: "sequence.count + len(batches)", want: 4},
		"the clock is not available":       {expression: "now()", wantErr: "compiling expression: unknown name now (1:1)"},
		"too long":                         {expression: strings.Repeat(" ", MaxExpressionLength+1), wantErr: errTooLong.Error()},
		"a memory-hungry range is bounded": {expression: "len(1..1000000)", wantErr: "evaluating expression: memory budget exceeded (1:6)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Evaluate(tc.expression, env)
			gotErr := ""
			if err != nil {
				gotErr = firstLine(err.Error())
			}
			if gotErr != tc.wantErr {
				t.Fatalf("Evaluate(%q) error = %q, want %q", tc.expression, gotErr, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Evaluate(%q) (-want +got):\n%s", tc.expression, diff)
			}
		})
	}
}

func TestEvaluateBoolConcurrentAndCached(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				expression := fmt.Sprintf("sequence.count == %d", i%50)
				ok, err := EvaluateBool(expression, Env{Sequence: SequenceView{Count: i % 50}})
				if err != nil || !ok {
					t.Errorf("goroutine %d: EvaluateBool(%q) = %v, %v", g, expression, ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	// The cache stays bounded however many distinct expressions pass.
	for i := range 3 * programCacheSize {
		_, _ = EvaluateBool(fmt.Sprintf("%d == %d", i, i), Env{})
	}
	programs.mu.Lock()
	size := len(programs.young) + len(programs.old)
	programs.mu.Unlock()
	if size > programCacheSize {
		t.Errorf("cache holds %d programs, want at most %d", size, programCacheSize)
	}
	// A compiled program is found again.
	p1, _ := compile("true", true)
	p2, _ := compile("true", true)
	if p1 != p2 {
		t.Errorf("compile twice returned two programs: not cached")
	}
}

func TestEnvFor(t *testing.T) {
	s := snap(
		MakeMember("fetch").Seq(0, 4).Succeeded(`{"count": 3}`),
		MakeMember("alt").Seq(0, 4).Failed("Boom", "went wrong").ContinueOnFailure(),
		MakeMember("raw").Seq(1, 4).Succeeded("not json"),
		MakeMember("report").Seq(2, 4).Args(map[string]any{"to": "me"}),
	)
	fetch := StepView{Name: "fetch", Index: 0, Phase: "Succeeded", Payload: map[string]any{"count": 3.0}}
	alt := StepView{Name: "alt", Index: 0, Phase: "Failed", Reason: "Boom", Error: "went wrong"}
	raw := StepView{Name: "raw", Index: 1, Phase: "Succeeded", Payload: "not json"}
	want := Env{
		Steps:    map[string]StepView{"fetch": fetch, "alt": alt, "raw": raw, "0": alt, "1": raw},
		Batches:  map[int][]StepView{0: {alt, fetch}, 1: {raw}},
		Args:     map[string]any{"to": "me"},
		Sequence: SequenceView{Key: "seq", Namespace: "ns", Count: 4},
	}
	if diff := cmp.Diff(want, EnvFor(s, "report")); diff != "" {
		t.Errorf("EnvFor(report) (-want +got):\n%s", diff)
	}
	empty := Env{Steps: map[string]StepView{}, Batches: map[int][]StepView{}, Sequence: SequenceView{Key: "seq", Namespace: "ns", Count: 4}}
	if diff := cmp.Diff(empty, EnvFor(s, "nobody")); diff != "" {
		t.Errorf("EnvFor(nobody) (-want +got):\n%s", diff)
	}
	// Decide hands a handler the same view.
	s.Members[3].Status.Phase = batonv1.CommandPending
	var got *Env
	for _, mp := range Decide(s, Options{}, at(time.Minute)).Members {
		if mp.Name == "report" {
			got = mp.Env
		}
	}
	if got == nil {
		t.Fatal("no Env in the plan of report")
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("MemberPlan.Env (-want +got):\n%s", diff)
	}

	// A handler that never reads the earlier steps gets its args and the sequence only,
	// while its condition still sees the earlier steps.
	s.Members[3].IgnoresSteps = true
	s.Members[3].Annotations = map[string]string{batonv1.AnnotationWhen: `steps["fetch"].payload.count == 3 && batches[1][0].phase == "Succeeded"`}
	got = nil
	for _, mp := range Decide(s, Options{}, at(time.Minute)).Members {
		if mp.Name == "report" && mp.Action == ActionRun {
			got = mp.Env
		}
	}
	if got == nil {
		t.Fatal("report, its condition true, is not run")
	}
	blind := Env{Args: want.Args, Sequence: want.Sequence}
	if diff := cmp.Diff(blind, *got); diff != "" {
		t.Errorf("MemberPlan.Env of a handler that ignores steps (-want +got):\n%s", diff)
	}
}

// TestStepNames: `steps[...]` finds a member by its step name (kubescape.io/step), else by
// its metadata.name, in conditions and in the Env a handler (the expr step) gets, so a
// retried sequence whose commands are renamed keeps the names its expressions use.
func TestStepNames(t *testing.T) {
	s := snap(
		MakeMember("fetch-retry-1").Seq(0, 3).Ann(batonv1.AnnotationStep, "fetch").Succeeded(`{"count": 3}`),
		MakeMember("raw").Seq(1, 3).Succeeded("not json"),
		MakeMember("report-retry-1").Seq(2, 3).Ann(batonv1.AnnotationStep, "report").Phase(batonv1.CommandPending).
			When(`steps.fetch.payload.count == 3 && steps["fetch"].name == "fetch" && steps["0"].name == "fetch" && `+
				`batches[0][0].name == "fetch" && steps.raw.phase == "Succeeded" && !("fetch-retry-1" in steps)`),
	)
	fetch := StepView{Name: "fetch", Index: 0, Phase: "Succeeded", Payload: map[string]any{"count": 3.0}}
	raw := StepView{Name: "raw", Index: 1, Phase: "Succeeded", Payload: "not json"}
	want := Env{
		Steps:    map[string]StepView{"fetch": fetch, "raw": raw, "0": fetch, "1": raw},
		Batches:  map[int][]StepView{0: {fetch}, 1: {raw}},
		Sequence: SequenceView{Key: "seq", Namespace: "ns", Count: 3},
	}
	if diff := cmp.Diff(want, EnvFor(s, "report-retry-1")); diff != "" {
		t.Errorf("EnvFor (-want +got):\n%s", diff)
	}
	var plan *MemberPlan
	p := Decide(s, Options{}, at(time.Minute))
	for i := range p.Members {
		if p.Members[i].Name == "report-retry-1" {
			plan = &p.Members[i]
		}
	}
	if plan == nil || plan.Action != ActionRun {
		t.Fatalf("report-retry-1: plan %+v, want it run (its condition holds); sequence: %s", plan, p.Status.Message)
	}
	if diff := cmp.Diff(want, *plan.Env); diff != "" {
		t.Errorf("MemberPlan.Env (-want +got):\n%s", diff)
	}
}

func TestStepName(t *testing.T) {
	cases := map[string]struct {
		annotations map[string]string
		want        string
	}{
		"the annotation":            {map[string]string{batonv1.AnnotationStep: "fetch"}, "fetch"},
		"no annotation: the name":   {nil, "fetch-retry-1"},
		"an empty one: the name":    {map[string]string{batonv1.AnnotationStep: ""}, "fetch-retry-1"},
		"other annotations ignored": {map[string]string{batonv1.AnnotationWhen: "true"}, "fetch-retry-1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := MakeMember("fetch-retry-1").Obj()
			m.Annotations = tc.annotations
			if got := StepName(m); got != tc.want {
				t.Errorf("StepName = %q, want %q", got, tc.want)
			}
		})
	}
}
