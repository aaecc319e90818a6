package steps

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/go-logr/logr"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// Request is what a handler gets.
type Request struct {
	// Command is the OperatorCommand being run: type, version, args, body, designators,
	// name and namespace. Handlers must not modify it.
	Command *batonv1.OperatorCommand
	// Env holds the earlier steps by name and by index, the batches, this command's args
	// and the sequence, as a kubescape.io/when condition sees them.
	Env engine.Env
	// Logger is the only place a handler logs; it carries the command's identity.
	Logger logr.Logger
}

// Handler is the one interface a step type implements.
//
// Run does the step's work for req.Command and returns its payload or an error:
//   - ctx ends at the command's TTL, or when the manager stops; Run must then return
//     promptly, typically with ctx.Err() wrapped, and its result is discarded.
//   - The payload is encoded with [EncodePayload] into status.payload; it may be nil. The
//     manager's --max-payload-bytes caps it (larger fails with PayloadTooLarge).
//   - An error fails the command (reason HandlerFailed, the error's text as message),
//     permanently unless it is wrapped with [Retryable].
//   - Run is called concurrently for different commands, and again for the same command
//     only on a retry or, if the handler is [Idempotent], after its executor was lost.
//   - It logs through req.Logger only.
type Handler interface {
	Run(ctx context.Context, req Request) (any, error)
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(ctx context.Context, req Request) (any, error)

// Run calls f(ctx, req).
func (f HandlerFunc) Run(ctx context.Context, req Request) (any, error) { return f(ctx, req) }

// Idempotent is an optional capability: a handler whose Idempotent method returns true may
// be re-run from the start after the executor running it was lost (a manager restart).
// Without it such a command fails with reason ExecutorLost.
type Idempotent interface {
	Idempotent() bool
}

// IsIdempotent reports whether h declares itself idempotent.
func IsIdempotent(h Handler) bool {
	i, ok := h.(Idempotent)
	return ok && i.Idempotent()
}

// StepsIgnorer is an optional capability: a handler whose IgnoresSteps method returns true
// never reads the earlier steps (Request.Env.Steps and Env.Batches, then nil); it still
// gets Env.Args and Env.Sequence. The engine then builds no view of the earlier steps for
// it: a view of every earlier step on every step is what grew with a long sequence. A
// kubescape.io/when condition sees the earlier steps whatever its handler declares.
type StepsIgnorer interface {
	IgnoresSteps() bool
}

// IgnoresSteps reports whether h declares that it never reads the earlier steps.
func IgnoresSteps(h Handler) bool {
	i, ok := h.(StepsIgnorer)
	return ok && i.IgnoresSteps()
}

// Args returns the command's spec.args; nil when there is no command.
func (r Request) Args() map[string]any {
	if r.Command == nil {
		return nil
	}
	return r.Command.Spec.Args
}

// DecodeArgs decodes the command's spec.args into v (a pointer to a struct with json tags)
// by a JSON round trip. Fields of args that v does not name are ignored: a member's args
// may also carry values for its kubescape.io/when condition.
func (r Request) DecodeArgs(v any) error {
	raw, err := json.Marshal(r.Args())
	if err != nil {
		return fmt.Errorf("encoding args: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding args: %w", err)
	}
	return nil
}

// Namespace is the command's namespace, the default for objects a step reads or writes.
func (r Request) Namespace() string {
	if r.Command == nil {
		return ""
	}
	return r.Command.Namespace
}
