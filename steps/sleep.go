package steps

import (
	"context"
	"fmt"
	"time"
)

// Sleep is the sleep step: it waits for a duration, then succeeds.
//
// Args: duration, a Go duration string ("500ms", "30s", "2m"), required, not negative.
//
// Payload: {"duration": "<the duration as Go prints it>"}.
//
// Errors: a missing, malformed or negative duration (permanent); the context's error when
// the command's TTL ends first.
type Sleep struct{}

var (
	_ Handler      = (*Sleep)(nil)
	_ Idempotent   = (*Sleep)(nil)
	_ StepsIgnorer = (*Sleep)(nil)
)

type sleepArgs struct {
	Duration string `json:"duration"`
}

// Run sleeps for args.duration or until ctx ends.
func (*Sleep) Run(ctx context.Context, req Request) (any, error) {
	var args sleepArgs
	if err := req.DecodeArgs(&args); err != nil {
		return nil, fmt.Errorf("sleep: %w", err)
	}
	if args.Duration == "" {
		return nil, fmt.Errorf("sleep: args.duration is required")
	}
	d, err := time.ParseDuration(args.Duration)
	if err != nil {
		return nil, fmt.Errorf("sleep: parsing args.duration: %w", err)
	}
	if d < 0 {
		return nil, fmt.Errorf("sleep: args.duration %s is negative", d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return map[string]any{"duration": d.String()}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("sleep: interrupted before %s elapsed: %w", d, ctx.Err())
	}
}

// Idempotent is true: sleeping again is harmless.
func (*Sleep) Idempotent() bool { return true }

// IgnoresSteps is true: sleep reads only its own args.
func (*Sleep) IgnoresSteps() bool { return true }
