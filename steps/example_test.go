package steps_test

import (
	"context"
	"errors"
	"fmt"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/steps"
)

// Greet is a step type of its own: it greets args.name.
type Greet struct{}

var _ steps.Handler = Greet{}

// Run returns {"greeting": "hello, <name>"}; a missing name is a permanent error.
func (Greet) Run(ctx context.Context, req steps.Request) (any, error) {
	var args struct {
		Name string `json:"name"`
	}
	if err := req.DecodeArgs(&args); err != nil {
		return nil, err
	}
	if args.Name == "" {
		return nil, errors.New("greet: args.name is required")
	}
	req.Logger.Info("greeting", "name", args.Name)
	return map[string]string{"greeting": "hello, " + args.Name}, nil
}

// Idempotent is true: greeting twice is harmless, so a restart may run it again.
func (Greet) Idempotent() bool { return true }

// A handler is registered under its commandType; the engine looks it up when a command's
// gate opens, runs it, and writes the encoded result to status.payload.
func Example() {
	registry := steps.NewRegistry()
	if err := registry.Register("greet", "", Greet{}); err != nil {
		panic(err)
	}

	// What the engine does with a "greet" command:
	cmd := &batonv1.OperatorCommand{Spec: batonv1.OperatorCommandSpec{
		CommandType: "greet",
		Args:        batonv1.Args{"name": "baton"},
	}}
	handler, found := registry.Lookup(cmd.Spec.CommandType, cmd.Spec.CommandVersion)
	payload, err := handler.Run(context.Background(), steps.Request{Command: cmd})
	data, _ := steps.EncodePayload(payload)
	fmt.Println(found, steps.IsIdempotent(handler), string(data), err)

	// A type nobody registered is left to an external executor.
	_, found = registry.Lookup("kubescape-scan", "")
	fmt.Println(found)
	// Output:
	// true true {"greeting":"hello, baton"} <nil>
	// false
}

// Errors are permanent unless marked retryable; the mark keeps the message and the chain.
func ExampleRetryable() {
	errBusy := errors.New("registry busy")
	err := fmt.Errorf("pushing the image: %w", steps.Retryable(errBusy))
	fmt.Println(steps.IsRetryable(err), errors.Is(err, errBusy), err)
	fmt.Println(steps.IsRetryable(errors.New("bad image name")))
	// Output:
	// true true pushing the image: registry busy
	// false
}
