package steps_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/steps"
)

// sequenceEnv is what a member of batch 2 sees after fetch (batch 0) and two scans (batch 1).
func sequenceEnv() engine.Env {
	fetch := engine.StepView{Name: "fetch", Index: 0, Phase: "Succeeded",
		Payload: map[string]any{"statusCode": 200.0, "body": `{"ready":true}`}}
	scanA := engine.StepView{Name: "scan-a", Index: 1, Phase: "Succeeded", Payload: map[string]any{"count": 3.0}}
	scanB := engine.StepView{Name: "scan-b", Index: 1, Phase: "Succeeded", Payload: map[string]any{"count": 4.0}}
	return engine.Env{
		Steps: map[string]engine.StepView{
			"fetch": fetch, "0": fetch, "scan-a": scanA, "scan-b": scanB, "1": scanA,
		},
		Batches:  map[int][]engine.StepView{0: {fetch}, 1: {scanA, scanB}},
		Args:     map[string]any{"threshold": 5.0},
		Sequence: engine.SequenceView{Key: "job-1", Namespace: "default", Count: 4},
	}
}

func TestExpr(t *testing.T) {
	cases := map[string]struct {
		expression string
		noEnvArgs  bool // the engine left Env.Args empty: the command's args are used
		want       any
	}{
		"a step's payload":         {expression: `steps.fetch.payload.statusCode == 200 ? "up" : "down"`, want: "up"},
		"by index":                 {expression: `steps["0"].name`, want: "fetch"},
		"over a batch":             {expression: `sum(map(batches[1], {.payload.count}))`, want: 7.0},
		"with args":                {expression: `sum(map(batches[1], {.payload.count})) > args.threshold`, want: true},
		"command args as fallback": {expression: `args.threshold * 2`, noEnvArgs: true, want: 10.0},
		"the sequence":             {expression: `sequence.key + "/" + string(sequence.count)`, want: "job-1/4"},
		"json in a payload":        {expression: `fromJSON(steps.fetch.payload.body).ready`, want: true},
		"a map":                    {expression: `{"n": len(batches[1])}`, want: map[string]any{"n": 2.0}},
		"a step keeps expr names": {expression: `steps["scan-b"]`, want: map[string]any{
			"name": "scan-b", "index": 1.0, "phase": "Succeeded", "reason": "", "error": "",
			"payload": map[string]any{"count": 4.0},
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := newCommand("expr").Arg("expression", tc.expression).Arg("threshold", 5).request(t)
			req.Env = sequenceEnv()
			if tc.noEnvArgs {
				req.Env.Args = nil
			}
			got, err := (&steps.Expr{}).Run(context.Background(), req)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(tc.want, normalize(t, got)); diff != "" {
				t.Fatalf("payload (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExprNilLeavesNoPayload(t *testing.T) {
	req := newCommand("expr").Arg("expression", `args.missing`).request(t)
	got, err := (&steps.Expr{}).Run(context.Background(), req)
	if err != nil || got != nil {
		t.Fatalf("Run = %v, %v; want nil, nil", got, err)
	}
}

func TestExprErrors(t *testing.T) {
	cases := map[string]struct {
		expression string
		want       string
	}{
		"missing":        {"", "args.expression is required"},
		"does not parse": {"steps.fetch.", "compiling expression"},
		"unknown name":   {"stepz.fetch", "compiling expression"},
		"clock disabled": {"now()", "compiling expression"},
		"too long":       {strings.Repeat("1+", engine.MaxExpressionLength) + "1", "longer than"},
		"fails when run": {`int("seven")`, "evaluating expression"},
		"not JSON-able":  {"1/0", "cannot be written as JSON"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req := newCommand("expr").Arg("expression", tc.expression).request(t)
			req.Env = sequenceEnv()
			_, err := (&steps.Expr{}).Run(context.Background(), req)
			if err == nil || !strings.Contains(err.Error(), tc.want) || steps.IsRetryable(err) {
				t.Fatalf("err = %v, want a permanent error containing %q", err, tc.want)
			}
		})
	}
}

func TestExprCancelled(t *testing.T) {
	_, err := (&steps.Expr{}).Run(cancelled(), newCommand("expr").Arg("expression", "1").request(t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
