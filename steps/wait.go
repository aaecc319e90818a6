package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Wait is the wait step: it waits until one object matches a condition, or the command's
// TTL ends. It lists the object, then watches it (never polls), and lists and watches
// again whenever the watch closes, with a backoff after errors. An object that does not
// exist yet is waited for; one deleted while waiting is waited for again.
//
// Args:
//   - apiVersion, kind, name (required): the object.
//   - namespace: defaults to the command's namespace (ignored for cluster-scoped kinds).
//   - condition (required), one of:
//   - {type: Ready, status: "True"}: an entry of status.conditions with that type and
//     status (status defaults to "True", compared case-insensitively); an entry whose
//     observedGeneration is behind metadata.generation is stale and does not match.
//   - {expression: "..."} or just a string: an expr-lang expression over `object` (the
//     whole object as the API returns it) that must be true, with the limits of
//     kubescape.io/when conditions. An expression that errors on an object (a field not
//     set yet) counts as not matching; it does not fail the step.
//
// Payload: the object's status when it matched (an object; {} for kinds without status).
//
// Errors: bad args or a condition that does not compile are permanent; an API answer that
// waiting cannot fix (forbidden, invalid) is permanent; transient API errors are retried
// inside the step. When the TTL ends first the error wraps the context's error and says
// what was last seen.
type Wait struct {
	Client client.WithWatch
}

var (
	_ Handler      = (*Wait)(nil)
	_ Idempotent   = (*Wait)(nil)
	_ StepsIgnorer = (*Wait)(nil)
)

type waitArgs struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Name       string          `json:"name"`
	Namespace  string          `json:"namespace"`
	Condition  json.RawMessage `json:"condition"`
}

// waitTarget is what one wait step watches for.
type waitTarget struct {
	gvk   schema.GroupVersionKind
	key   client.ObjectKey
	match objectMatcher
}

func (t waitTarget) String() string {
	if t.key.Namespace == "" {
		return fmt.Sprintf("%s %s", t.gvk.Kind, t.key.Name)
	}
	return fmt.Sprintf("%s %s/%s", t.gvk.Kind, t.key.Namespace, t.key.Name)
}

// Run waits for the object to match.
func (w *Wait) Run(ctx context.Context, req Request) (any, error) {
	target, err := parseWaitArgs(req)
	if err != nil {
		return nil, fmt.Errorf("wait: %w", err)
	}
	req.Logger.V(1).Info("waiting", "object", target.String(), "for", target.match.String())
	obj, err := w.waitFor(ctx, req, target)
	if err != nil {
		return nil, fmt.Errorf("wait: %w", err)
	}
	req.Logger.Info("object matched", "object", target.String(), "for", target.match.String())
	status, ok := obj.Object["status"].(map[string]any)
	if !ok {
		status = map[string]any{}
	}
	return status, nil
}

func parseWaitArgs(req Request) (waitTarget, error) {
	var args waitArgs
	if err := req.DecodeArgs(&args); err != nil {
		return waitTarget{}, err
	}
	if args.APIVersion == "" || args.Kind == "" || args.Name == "" {
		return waitTarget{}, errors.New("args.apiVersion, args.kind and args.name are required")
	}
	gv, err := schema.ParseGroupVersion(args.APIVersion)
	if err != nil {
		return waitTarget{}, fmt.Errorf("args.apiVersion %q: %w", args.APIVersion, err)
	}
	match, err := parseWaitCondition(args.Condition)
	if err != nil {
		return waitTarget{}, err
	}
	namespace := args.Namespace
	if namespace == "" {
		namespace = req.Namespace()
	}
	return waitTarget{
		gvk:   gv.WithKind(args.Kind),
		key:   client.ObjectKey{Namespace: namespace, Name: args.Name},
		match: match,
	}, nil
}

// Idempotent is true: waiting again only observes.
func (*Wait) Idempotent() bool { return true }

// waitBackoff spaces list-and-watch rounds after an error or a watch that closed at once.
type waitBackoff struct {
	next time.Duration
}

const (
	waitBackoffMin = 200 * time.Millisecond
	waitBackoffMax = 10 * time.Second
	// waitHealthyWatch is how long a watch must have lasted for its closing to be normal.
	waitHealthyWatch = time.Second
)

func (b *waitBackoff) reset() { b.next = 0 }

// sleep waits for the next delay, or returns ctx's error.
func (b *waitBackoff) sleep(ctx context.Context) error {
	b.next = min(max(2*b.next, waitBackoffMin), waitBackoffMax)
	timer := time.NewTimer(b.next)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// IgnoresSteps is true: wait reads only its own args.
func (*Wait) IgnoresSteps() bool { return true }
