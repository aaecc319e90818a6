package steps

import (
	"context"
	"errors"
	"fmt"
)

// Noop is the noop step: it does nothing and succeeds, echoing its args. It is for
// trying sequences out and for placeholders.
//
// Args: anything. One name is read: fail. When it is a non-empty string (or true) the step
// fails permanently with that message instead, to demonstrate and test failure
// propagation.
//
// Payload: the command's args, as a JSON object ({} when there are none).
//
// Errors: the fail message; the context's error when the context has already ended.
type Noop struct{}

var (
	_ Handler      = (*Noop)(nil)
	_ Idempotent   = (*Noop)(nil)
	_ StepsIgnorer = (*Noop)(nil)
)

// Run echoes the args.
func (*Noop) Run(ctx context.Context, req Request) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("noop: %w", err)
	}
	args := req.Args()
	switch fail := args["fail"].(type) {
	case string:
		if fail != "" {
			return nil, errors.New(fail)
		}
	case bool:
		if fail {
			return nil, errors.New("noop: failed as args.fail asked")
		}
	}
	if args == nil {
		return map[string]any{}, nil
	}
	return args, nil
}

// Idempotent is true: noop has no effect.
func (*Noop) Idempotent() bool { return true }

// IgnoresSteps is true: noop reads only its own args.
func (*Noop) IgnoresSteps() bool { return true }
