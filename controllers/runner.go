package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
//
// It is a manager Runnable: handlers run only while the manager does (and, with leader
// election, while it leads), and stopping waits for them.
type runner struct {
	client   client.Client
	apiRead  client.Reader
	registry *steps.Registry
	recorder eventRecorder
	clock    clock.Clock
	opts     engine.Options
	executer string
	log      logr.Logger
	// wake makes the controller reconcile a command's unit again: a claim lost a race, or
	// a result could not be written.
	wake chan event.GenericEvent
	sem  chan struct{}

	// ctx ends when the manager stops; every handler runs under it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu sync.Mutex
	// active holds the commands this process will run, each marked claimed from the moment
	// its claim is sent. A claimed entry stays until the reconciler sees the command
	// terminal, so a stale cache that still shows Running is never mistaken for a lost
	// executor; a queued one does not count as in flight, so the engine may still skip it.
	active map[types.UID]bool
}

func newRunner(c client.Client, apiReader client.Reader, registry *steps.Registry, rec eventRecorder, clk clock.Clock, opts engine.Options, executer string, maxConcurrent int, log logr.Logger) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &runner{
		client: c, apiRead: apiReader, registry: registry, recorder: rec, clock: clk, opts: opts,
		executer: executer, log: log, wake: make(chan event.GenericEvent, 64),
		sem: make(chan struct{}, max(maxConcurrent, 1)), ctx: ctx, cancel: cancel,
		active: map[types.UID]bool{},
	}
}

// Start implements manager.Runnable: it returns when the manager stops, once every
// handler has returned.
func (r *runner) Start(ctx context.Context) error {
	<-ctx.Done()
	r.cancel()
	r.wg.Wait()
	return nil
}

// inFlight reports whether this process claimed the command and still holds it.
func (r *runner) inFlight(uid types.UID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.active[uid]
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
	defer r.mu.Unlock()
	if _, ok := r.active[cmd.UID]; ok || r.ctx.Err() != nil {
		return
	}
	r.active[cmd.UID] = false
	var env engine.Env
	if plan.Env != nil {
		env = *plan.Env
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.run(cmd.DeepCopy(), plan, env)
	}()
}

func (r *runner) run(cmd *batonv1.OperatorCommand, plan engine.MemberPlan, env engine.Env) {
	log := r.log.WithValues("command", client.ObjectKeyFromObject(cmd), "type", cmd.Spec.CommandType)
	handler, ok := r.registry.Lookup(cmd.Spec.CommandType, cmd.Spec.CommandVersion)
	ctx, cancel := r.handlerContext(plan.Deadline)
	defer cancel()
	if !ok || !r.acquire(ctx) {
		r.release(cmd)
		return
	}
	if err := r.claim(ctx, cmd, plan); err != nil {
		log.V(1).Info("claim lost; reconciling again", "error", err.Error())
		<-r.sem
		r.release(cmd)
		return
	}
	r.recorder.Eventf(cmd, nil, "Normal", "Started", "Run", "started by %s (attempt %d)", r.executer, cmd.Status.Attempts)
	payload, err := r.attempts(ctx, cmd, handler, plan, env, log)
	if ctx.Err() != nil {
		// The TTL passed (the engine expires the command) or the manager is stopping (the
		// next one re-runs or fails it): either way this process writes nothing more.
		log.Info("handler stopped by its context", "error", ctx.Err().Error())
		return
	}
	if err := r.complete(ctx, cmd, payload, err); err != nil {
		log.Error(err, "writing the result")
		r.release(cmd)
	}
}

// acquire takes a concurrency slot, or gives up when ctx ends.
func (r *runner) acquire(ctx context.Context) bool {
	select {
	case r.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// release forgets a command this process no longer holds, and asks for a reconcile so
// that someone decides again.
func (r *runner) release(cmd *batonv1.OperatorCommand) {
	r.forget(cmd.UID)
	select {
	case r.wake <- event.GenericEvent{Object: cmd}:
	case <-r.ctx.Done():
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
	r.mu.Lock()
	r.active[cmd.UID] = true // before the write: its watch event may come back at once
	r.mu.Unlock()
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
// or time. It holds a concurrency slot while the handler runs (the first one taken before
// the claim), never while it waits out a backoff, and records each retry in
// status.attempts.
func (r *runner) attempts(ctx context.Context, cmd *batonv1.OperatorCommand, handler steps.Handler, plan engine.MemberPlan, env engine.Env, log logr.Logger) (any, error) {
	for {
		payload, err := r.attempt(ctx, cmd, handler, env, log)
		<-r.sem
		if err == nil || ctx.Err() != nil || !steps.IsRetryable(err) || int(cmd.Status.Attempts) >= plan.MaxAttempts ||
			!engine.RetryFits(r.opts, int(cmd.Status.Attempts), r.clock.Now(), plan.Deadline) {
			return payload, err
		}
		delay := engine.RetryDelay(r.opts, int(cmd.Status.Attempts))
		message := engine.ClipMessage(fmt.Sprintf("attempt %d failed: %v; retrying in %s", cmd.Status.Attempts, err, delay))
		if werr := r.writeOwn(ctx, cmd, func(s *batonv1.OperatorCommandStatus) { s.Attempts++; s.Message = message }); werr != nil {
			return nil, fmt.Errorf("recording a retry: %w", werr)
		}
		r.recorder.Eventf(cmd, nil, "Warning", "Retrying", "Run", "%s", message)
		select {
		case <-r.clock.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !r.acquire(ctx) {
			return nil, ctx.Err()
		}
	}
}

// attempt runs the handler once. A panic is the handler's failure, not the manager's.
func (r *runner) attempt(ctx context.Context, cmd *batonv1.OperatorCommand, handler steps.Handler, env engine.Env, log logr.Logger) (payload any, err error) {
	started := r.clock.Now()
	defer func() {
		stepDuration.WithLabelValues(cmd.Spec.CommandType).Observe(r.clock.Since(started).Seconds())
		if p := recover(); p != nil {
			payload, err = nil, fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return handler.Run(ctx, steps.Request{Command: cmd.DeepCopy(), Env: env, Logger: log})
}

// complete writes the handler's outcome.
func (r *runner) complete(ctx context.Context, cmd *batonv1.OperatorCommand, payload any, runErr error) error {
	var data []byte
	if runErr == nil {
		var err error
		if data, err = steps.EncodePayload(payload); err == nil {
			err = engine.CheckPayload(r.opts, data)
		}
		runErr = err
	}
	now := r.now()
	outcome := func(s *batonv1.OperatorCommandStatus) {
		s.Completed, s.CompletedAt = true, &now
		s.Phase, s.Message, s.Payload = batonv1.CommandSucceeded, "succeeded", data
		if runErr != nil {
			reason, message := batonv1.ReasonHandlerFailed, runErr.Error()
			var refused *engine.ReasonError
			if errors.As(runErr, &refused) {
				reason, message = refused.Reason, refused.Message
			}
			message = engine.ClipMessage(message)
			s.Phase, s.Payload = batonv1.CommandFailed, nil
			s.Error = &batonv1.OperatorCommandStatusError{Reason: reason, Message: message}
			s.Message = engine.ClipMessage(fmt.Sprintf("attempt %d failed: %s", s.Attempts, message))
		}
	}
	if err := r.writeOwn(ctx, cmd, outcome); err != nil {
		return err
	}
	eventType, reason := "Normal", string(cmd.Status.Phase)
	if cmd.Status.Error != nil {
		eventType, reason = "Warning", cmd.Status.Error.Reason
	}
	r.recorder.Eventf(cmd, nil, eventType, reason, "Run", "%s", cmd.Status.Message)
	return nil
}

// errClaimLost says the command is no longer this process's claim.
var errClaimLost = errors.New("the command is no longer this executer's claim")

// writeOwn changes the status of a command this process claimed. Only the claim needs
// the resourceVersion guard: when the object changed since (someone annotated it, an
// earlier write of ours), it is read again and, if its status is still what this process
// last wrote, the change is applied to the new version.
func (r *runner) writeOwn(ctx context.Context, cmd *batonv1.OperatorCommand, change func(*batonv1.OperatorCommandStatus)) error {
	for tries := 0; ; tries++ {
		status := *cmd.Status.DeepCopy()
		change(&status)
		_, err := writeCommandStatus(ctx, r.client, cmd, status)
		if err == nil || !apierrors.IsConflict(err) || tries == 4 {
			return err
		}
		fresh := &batonv1.OperatorCommand{}
		if err := r.apiRead.Get(ctx, client.ObjectKeyFromObject(cmd), fresh); err != nil {
			return fmt.Errorf("re-reading command %s: %w", cmd.Name, err)
		}
		if !equality.Semantic.DeepEqual(fresh.Status, cmd.Status) {
			return errClaimLost
		}
		*cmd = *fresh
	}
}

// now is the clock's time at the precision the API server keeps (seconds), so what is
// written compares equal to what is read back.
func (r *runner) now() metav1.Time { return metav1.NewTime(r.clock.Now().Truncate(time.Second)) }
