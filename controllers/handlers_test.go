package controllers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/gomega"

	"github.com/batonhq/baton/steps"
)

// run is one invocation of a test handler, timed in memory with full precision.
type run struct {
	command    string
	start, end time.Time
	ctxErr     error
}

// handlers are the in-process steps of the specs. Each invocation is recorded, so specs
// can count runs and check that intervals never overlap where they must not. Commands are
// known by "namespace/name": a manager sees every namespace, and a spec looks only at its
// own.
type handlers struct {
	ns string

	mu      sync.Mutex
	runs    []run
	started map[string]int
	// release unblocks the "block" handlers of a command (by name).
	release map[string]chan struct{}
	// failures counts down the retryable failures of "flaky" per command.
	failures map[string]int
}

func newHandlers(ns string) *handlers {
	return &handlers{ns: ns, started: map[string]int{}, release: map[string]chan struct{}{}, failures: map[string]int{}}
}

func key(req steps.Request) string { return req.Command.Namespace + "/" + req.Command.Name }

// failTimes makes "flaky" (and "flaky-idempotent") fail retryably n times for the named command.
func (h *handlers) failTimes(name string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures[h.ns+"/"+name] = n
}

// idempotentBlock is "block" declared safe to re-run after its executor was lost.
type idempotentBlock struct{ h *handlers }

func (b idempotentBlock) Run(ctx context.Context, req steps.Request) (any, error) {
	return b.h.block(ctx, req)
}
func (idempotentBlock) Idempotent() bool { return true }

// idempotent declares a handler safe to re-run.
type idempotent struct{ steps.Handler }

func (idempotent) Idempotent() bool { return true }

func (h *handlers) registry() *steps.Registry {
	r := steps.NewRegistry()
	register := func(commandType string, handler steps.Handler) {
		Expect(r.Register(commandType, "", recording{h: h, inner: handler})).To(Succeed())
	}
	must := func(commandType string, f func(context.Context, steps.Request) (any, error)) {
		register(commandType, steps.HandlerFunc(f))
	}
	must("record", func(ctx context.Context, req steps.Request) (any, error) {
		if d, ok := req.Command.Spec.Args["sleep"].(string); ok {
			pause, err := time.ParseDuration(d)
			if err != nil {
				return nil, err
			}
			select {
			case <-time.After(pause):
			case <-ctx.Done():
			}
		}
		return map[string]any{"name": req.Command.Name, "earlier": len(req.Env.Steps)}, nil
	})
	must("fail", func(context.Context, steps.Request) (any, error) {
		return nil, errors.New("boom")
	})
	flaky := steps.HandlerFunc(func(_ context.Context, req steps.Request) (any, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.failures[key(req)] > 0 {
			h.failures[key(req)]--
			return nil, steps.Retryable(errors.New("not yet"))
		}
		return "ok", nil
	})
	register("flaky", flaky)
	register("flaky-idempotent", idempotent{flaky})
	must("echo", func(_ context.Context, req steps.Request) (any, error) {
		return map[string]any{"args": req.Args(), "envArgs": req.Env.Args, "body": string(req.Command.Spec.Body),
			"designators": len(req.Command.Spec.Designators)}, nil
	})
	must("big", func(_ context.Context, req steps.Request) (any, error) {
		return []byte(strings.Repeat("x", 4<<10)), nil
	})
	must("text", func(context.Context, steps.Request) (any, error) {
		return []byte("plain text, not JSON"), nil
	})
	must("panic", func(context.Context, steps.Request) (any, error) {
		panic("handler bug")
	})
	// stubborn ignores its context: it returns only after args.hold.
	must("stubborn", func(_ context.Context, req steps.Request) (any, error) {
		hold, err := time.ParseDuration(req.Command.Spec.Args["hold"].(string))
		if err != nil {
			return nil, err
		}
		time.Sleep(hold)
		return "too late", nil
	})
	must("block", h.block)
	register("block-idempotent", idempotentBlock{h})
	register(steps.TypeNoop, &steps.Noop{}) // idempotent and quick: one write (quickstep_test.go)
	// versioned exists only as commandVersion v2.
	Expect(r.Register("versioned", "v2", recording{h: h, inner: steps.HandlerFunc(func(context.Context, steps.Request) (any, error) {
		return "v2", nil
	})})).To(Succeed())
	return r
}

// block waits for release or for its context, and reports which.
func (h *handlers) block(ctx context.Context, req steps.Request) (any, error) {
	h.mu.Lock()
	ch, ok := h.release[key(req)]
	if !ok {
		ch = make(chan struct{})
		h.release[key(req)] = ch
	}
	h.mu.Unlock()
	select {
	case <-ch:
		return map[string]any{"released": true}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *handlers) unblock(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch, ok := h.release[h.ns+"/"+name]; ok {
		close(ch)
		return
	}
	ch := make(chan struct{})
	close(ch)
	h.release[h.ns+"/"+name] = ch
}

// startedCount is how many times a handler was entered for the command, finished or not.
func (h *handlers) startedCount(name string) func() int {
	return func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.started[h.ns+"/"+name]
	}
}

func (h *handlers) invocations(name string) []run {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []run
	for _, r := range h.runs {
		if r.command == h.ns+"/"+name {
			out = append(out, r)
		}
	}
	return out
}

func (h *handlers) count(name string) int { return len(h.invocations(name)) }

// recording wraps every registered handler to time its invocations.
type recording struct {
	h     *handlers
	inner steps.Handler
}

func (r recording) Run(ctx context.Context, req steps.Request) (any, error) {
	start := time.Now()
	r.h.mu.Lock()
	r.h.started[key(req)]++
	r.h.mu.Unlock()
	payload, err := r.inner.Run(ctx, req)
	r.h.mu.Lock()
	r.h.runs = append(r.h.runs, run{command: key(req), start: start, end: time.Now(), ctxErr: ctx.Err()})
	r.h.mu.Unlock()
	return payload, err
}

func (r recording) Idempotent() bool { return steps.IsIdempotent(r.inner) }
