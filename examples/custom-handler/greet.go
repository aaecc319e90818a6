package main

import (
	"context"
	"fmt"

	"github.com/batonhq/baton/steps"
)

// Greet greets args.name. Payload: {"greeting": "hello, <name>"}. A missing name is a
// permanent error.
type Greet struct{}

var _ steps.Handler = Greet{}

// Run implements steps.Handler.
func (Greet) Run(_ context.Context, req steps.Request) (any, error) {
	name, _ := req.Command.Spec.Args["name"].(string)
	if name == "" {
		return nil, fmt.Errorf("args.name is required")
	}
	req.Logger.Info("greeting", "name", name)
	return map[string]string{"greeting": "hello, " + name}, nil
}

// Idempotent: greeting twice is harmless, so a lost run is simply run again.
func (Greet) Idempotent() bool { return true }
