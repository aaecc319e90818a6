package main

import (
	"context"
	"errors"

	"github.com/batonhq/baton/steps"
)

// Greet greets args.name. Payload: {"greeting": "hello, <name>"}. A missing name is a
// permanent error.
type Greet struct{}

var _ steps.Handler = Greet{}

// Run implements steps.Handler.
func (Greet) Run(_ context.Context, req steps.Request) (any, error) {
	var args struct {
		Name string `json:"name"`
	}
	if err := req.DecodeArgs(&args); err != nil || args.Name == "" {
		return nil, errors.New("greet: args.name is required")
	}
	req.Logger.Info("greeting", "name", args.Name)
	return map[string]string{"greeting": "hello, " + args.Name}, nil
}

// Idempotent: greeting twice is harmless, so a lost run is simply run again.
func (Greet) Idempotent() bool { return true }
