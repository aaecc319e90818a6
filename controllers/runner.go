package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/steps"
)

// runner executes in-process handlers: it claims a Ready command, runs its handler with a
// context ending at the command's TTL, retries what the handler marks retryable, and
// writes the result. At most maxConcurrent handlers run at once; the rest wait, Ready.
type runner struct {
	client   client.Client
	registry *steps.Registry
	recorder eventRecorder
	clock    clock.Clock
	opts     engine.Options
	executer string
	// ctx is the manager's: stopping the manager cancels every handler.
	ctx context.Context
	log logr.Logger
	// wake makes the controller reconcile a command's unit again (a claim lost a race).
	wake chan event.GenericEvent
	sem  chan struct{}

	mu sync.Mutex
	// active holds the commands this process has claimed or is about to. An entry stays
	// until the reconciler sees the command terminal, so a stale cache that still shows
	// Running is never mistaken for a lost executor.
	active map[types.UID]struct{}
}

func newRunner(ctx context.Context, c client.Client, registry *steps.Registry, rec eventRecorder, clk clock.Clock, opts engine.Options, executer string, maxConcurrent int, log logr.Logger) *runner {
	if maxConcurrent < 1 {
		maxConcurrent = 1
	}
	return &runner{
		client: c, registry: registry, recorder: rec, clock: clk, opts: opts, executer: executer,
		ctx: ctx, log: log, wake: make(chan event.GenericEvent, 64), sem: make(chan struct{}, maxConcurrent),
		active: map[types.UID]struct{}{},
	}
}

func (r *runner) inFlight(uid types.UID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.active[uid]
	return ok
}

// forget drops a command the reconciler saw terminal.
func (r *runner) forget(uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.active, uid)
}

// start runs the command's handler in the background unless it already runs here.
func (r *runner) start(cmd *batonv1.OperatorCommand, plan engine.MemberPlan) {
	r.mu.Lock()
	if _, ok := r.active[cmd.UID]; ok {
		r.mu.Unlock()
		return
	}
	r.active[cmd.UID] = struct{}{}
	r.mu.Unlock()
	var env engine.Env
	if plan.Env != nil {
		env = *plan.Env
	}
	go r.run(cmd.DeepCopy(), plan, env)
}

func (r *runner) run(cmd *batonv1.OperatorCommand, plan engine.MemberPlan, env engine.Env) {
	log := r.log.WithValues("command", client.ObjectKeyFromObject(cmd), "type", cmd.Spec.CommandType)
	handler, ok := r.registry.Lookup(cmd.Spec.CommandType, cmd.Spec.CommandVersion)
	if !ok || !r.acquire() {
		r.release(cmd, false)
		return
	}
	ctx, cancel := r.handlerContext(plan.Deadline)
	defer cancel()

	if err := r.claim(ctx, cmd, plan); err != nil {
		log.V(1).Info("claim lost; reconciling again", "error", err.Error())
		<-r.sem
		r.release(cmd, true)
		return
	}
	r.recorder.Eventf(cmd, nil, "Normal", "Started", "Run", "started by %s (attempt %d)", r.executer, cmd.Status.Attempts)
	payload, err := r.attempts(ctx, cmd, handler, plan, env, log)
	<-r.sem
	if ctx.Err() != nil {
		// The TTL passed (the engine expires the command) or the manager is stopping (the
		// next one re-runs or fails it): either way this process writes nothing more.
		log.Info("handler stopped by its context", "error", ctx.Err().Error())
		return
	}
	if err := r.complete(ctx, cmd, payload, err); err != nil {
		log.Error(err, "writing the result")
		r.release(cmd, true)
	}
}

func (r *runner) acquire() bool {
	select {
	case r.sem <- struct{}{}:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// release forgets a command this process will not run after all, and asks for a
// reconcile so that someone decides again.
func (r *runner) release(cmd *batonv1.OperatorCommand, wake bool) {
	r.forget(cmd.UID)
	if wake {
		select {
		case r.wake <- event.GenericEvent{Object: cmd}:
		case <-r.ctx.Done():
		}
	}
}

func (r *runner) handlerContext(deadline time.Time) (context.Context, context.CancelFunc) {
	if deadline.IsZero() {
		return context.WithCancel(r.ctx)
	}
	return context.WithDeadline(r.ctx, deadline)
}

// claim marks the command started by this executer; the resourceVersion guard makes sure
// only one claim of a given observation ever succeeds.
func (r *runner) claim(ctx context.Context, cmd *batonv1.OperatorCommand, plan engine.MemberPlan) error {
	now := r.now()
	status := plan.Status
	status.Started, status.StartedAt = true, &now
	status.Completed, status.CompletedAt = false, nil
	status.Executer = r.executer
	status.Phase = batonv1.CommandRunning
	status.Attempts = cmd.Status.Attempts + 1
	status.Error, status.Payload = nil, nil
	status.Message = fmt.Sprintf("running on %s", r.executer)
	_, err := writeCommandStatus(ctx, r.client, cmd, status)
	return err
}

// attempts runs the handler until it succeeds, fails for good, or runs out of attempts
// or time. It records each retry in status.attempts.
func (r *runner) attempts(ctx context.Context, cmd *batonv1.OperatorCommand, handler steps.Handler, plan engine.MemberPlan, env engine.Env, log logr.Logger) (any, error) {
	for {
		started := r.clock.Now()
		payload, err := handler.Run(ctx, steps.Request{Command: cmd.DeepCopy(), Env: env, Logger: log})
		stepDuration.WithLabelValues(cmd.Spec.CommandType).Observe(r.clock.Since(started).Seconds())
		if err == nil || ctx.Err() != nil || !steps.IsRetryable(err) || int(cmd.Status.Attempts) >= plan.MaxAttempts {
			return payload, err
		}
		if !engine.RetryFits(r.opts, int(cmd.Status.Attempts), r.clock.Now(), plan.Deadline) {
			return payload, err
		}
		delay := engine.RetryDelay(r.opts, int(cmd.Status.Attempts))
		status := cmd.Status
		status.Attempts++
		status.Message = fmt.Sprintf("attempt %d failed: %v; retrying in %s", cmd.Status.Attempts, err, delay)
		if _, werr := writeCommandStatus(ctx, r.client, cmd, status); werr != nil {
			return nil, fmt.Errorf("recording a retry: %w", werr)
		}
		r.recorder.Eventf(cmd, nil, "Warning", "Retrying", "Run", "%s", status.Message)
		if !r.sleep(ctx, delay) {
			return nil, ctx.Err()
		}
	}
}

// sleep waits out a backoff without holding a concurrency slot.
func (r *runner) sleep(ctx context.Context, d time.Duration) bool {
	<-r.sem
	select {
	case <-r.clock.After(d):
	case <-ctx.Done():
		r.sem <- struct{}{}
		return false
	}
	r.sem <- struct{}{}
	return true
}

// complete writes the handler's outcome.
func (r *runner) complete(ctx context.Context, cmd *batonv1.OperatorCommand, payload any, runErr error) error {
	now := r.now()
	status := cmd.Status
	status.Completed, status.CompletedAt = true, &now
	status.Phase, status.Message = batonv1.CommandSucceeded, "succeeded"
	if runErr == nil {
		data, err := steps.EncodePayload(payload)
		if err == nil {
			err = engine.CheckPayload(r.opts, data)
		}
		if err != nil {
			runErr = err
		} else {
			status.Payload = data
		}
	}
	if runErr != nil {
		reason, message := batonv1.ReasonHandlerFailed, runErr.Error()
		var refused *engine.ReasonError
		if errors.As(runErr, &refused) {
			reason, message = refused.Reason, refused.Message
		}
		status.Phase = batonv1.CommandFailed
		status.Error = &batonv1.OperatorCommandStatusError{Reason: reason, Message: message}
		status.Message = fmt.Sprintf("attempt %d failed: %s", status.Attempts, message)
	}
	if _, err := writeCommandStatus(ctx, r.client, cmd, status); err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil
		}
		return err
	}
	eventType := "Normal"
	if status.Phase != batonv1.CommandSucceeded {
		eventType = "Warning"
	}
	r.recorder.Eventf(cmd, nil, eventType, string(status.Phase), "Run", "%s", status.Message)
	return nil
}

// now is the clock's time at the precision the API server keeps (seconds), so what is
// written compares equal to what is read back.
func (r *runner) now() metav1.Time { return metav1.NewTime(r.clock.Now().Truncate(time.Second)) }
