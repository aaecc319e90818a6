package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/batonhq/baton/engine"
)

// Expr is the expr step: it evaluates an expr-lang expression and makes its value the
// payload. The expression sees what a kubescape.io/when condition sees, with the same
// limits (engine.Evaluate): `steps` (earlier members by step name and by index, each with
// name, index, phase, reason, error and payload), `batches` (earlier batches by index),
// `args` (this command's args) and `sequence` (key, namespace, count). A step name is the
// member's kubescape.io/step annotation, else its metadata.name (engine.StepName), so an
// expression keeps working in a retried sequence whose commands are renamed.
//
// Args: expression (required), for example
// `steps.fetch.payload.statusCode == 200 ? "up" : "down"` or
// `sum(map(batches[0], {.payload.count}))`. Other args are free for the expression to read.
//
// Payload: the value as JSON (a struct from the environment, such as a step, is written
// with the names the expression uses). A nil value leaves the payload empty.
//
// Errors, all permanent: no expression, one that does not compile or exceeds the limits,
// one that fails at run time, a value JSON cannot hold (such as 1/0, which is +Inf); the
// context's error when the context has already ended.
type Expr struct{}

var (
	_ Handler    = (*Expr)(nil)
	_ Idempotent = (*Expr)(nil)
)

type exprArgs struct {
	Expression string `json:"expression"`
}

// Run evaluates args.expression over req.Env.
func (*Expr) Run(ctx context.Context, req Request) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("expr: %w", err)
	}
	var args exprArgs
	if err := req.DecodeArgs(&args); err != nil {
		return nil, fmt.Errorf("expr: %w", err)
	}
	if args.Expression == "" {
		return nil, errors.New("expr: args.expression is required")
	}
	env := req.Env
	if env.Args == nil {
		env.Args = req.Args()
	}
	value, err := engine.Evaluate(args.Expression, env)
	if err != nil {
		return nil, fmt.Errorf("expr: %w", err)
	}
	if value == nil {
		return nil, nil
	}
	payload, err := json.Marshal(exprValue(value))
	if err != nil {
		return nil, fmt.Errorf("expr: the value cannot be written as JSON: %w", err)
	}
	return json.RawMessage(payload), nil
}

// Idempotent is true: evaluating has no effect.
func (*Expr) Idempotent() bool { return true }
