package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
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

// runner executes in-process handlers: it claims a command as its gate opens, runs its
// handler with a context ending at the command's TTL, retries what the handler marks
// retryable, and writes the result. An idempotent handler runs unclaimed for up to
// claimAfter: one that returns by then is claimed and completed in one write
// (quickstep.go). At most maxConcurrent handlers run at once, the oldest waiting command
// first (slotPool); a member that must wait for a slot is written Ready first, so kubectl
// shows why it waits.
//
// It is a manager Runnable: handlers run only while the manager does (and, with leader
// election, while it leads), and stopping waits for them — except a handler that ignores
// its context past its deadline, which is abandoned (logged, counted) so that it cannot
// hold a slot forever.
type runner struct {
	writer   *statusWriter
	units    *units
	registry *steps.Registry
	events   *eventPolicy
	clock    clock.Clock
	opts     engine.Options
	executer string
	// claimAfter is how long an idempotent handler runs before its command is claimed;
	// 0 claims every command before its handler runs.
	claimAfter time.Duration
	log        logr.Logger
	// wake makes the controller reconcile a command's unit again: a claim lost a race, or
	// a handler stopped without a result.
	wake  chan event.GenericEvent
	slots *slotPool

	// ctx ends when the manager stops; every handler runs under it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// job is one command this process holds, kept in its unit's jobs (unitState): queued for a
// slot, or claimed. A claimed job stays until the reconciler sees its command terminal (or
// gone), so a stale cache that still shows Running is never mistaken for a lost executor.
type job struct {
	// claimed is set as the claim (or the one write of a quick step) is sent: from then
	// on the command is this process's to finish.
	claimed bool
	cancel  context.CancelCauseFunc
}

// Why a handler's context ends early.
var (
	errCancelled   = errors.New("sequence cancelled")
	errCommandGone = errors.New("command deleted")
	// errCompletedElsewhere ends the handler of a command completed while unclaimed (a
	// skip, an expiry, another manager's result): its result would be dropped.
	errCompletedElsewhere = errors.New("command completed while its handler ran unclaimed")
)

// slotGrace is how long a member waits for a concurrency slot before it is written Ready:
// a member that must wait for a free slot shows it, one that gets one within the second —
// the precision of every timestamp baton writes, and the lag allowed to a sequence's
// progress — costs no write.
const slotGrace = time.Second

// abandonGrace is how long a handler may take to return once its context ended before the
// runner stops waiting for it.
const abandonGrace = 250 * time.Millisecond

func newRunner(writer *statusWriter, mem *units, registry *steps.Registry, ev *eventPolicy, clk clock.Clock,
	opts engine.Options, executer string, maxConcurrent int, claimAfter time.Duration, log logr.Logger) *runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &runner{
		writer: writer, units: mem, registry: registry, events: ev, clock: clk, opts: opts,
		executer: executer, claimAfter: claimAfter, log: log, wake: make(chan event.GenericEvent, 64),
		slots: newSlotPool(maxConcurrent), ctx: ctx, cancel: cancel,
	}
}

// Start implements manager.Runnable: it returns when the manager stops, once every
// handler has returned or been abandoned.
func (r *runner) Start(ctx context.Context) error {
	<-ctx.Done()
	r.cancel()
	r.wg.Wait()
	return nil
}

// holding lists the commands of unit u this process holds (queued or claimed), each
// with whether it claimed it; nil for none.
func (r *runner) holding(u unit) map[types.UID]bool {
	var held map[types.UID]bool
	r.units.with(u, func(st *unitState) {
		if len(st.jobs) == 0 {
			return
		}
		held = make(map[types.UID]bool, len(st.jobs))
		for uid, j := range st.jobs {
			held[uid] = j.claimed
		}
	})
	return held
}

// forget drops a command this process no longer holds.
func (r *runner) forget(u unit, uid types.UID) {
	r.units.with(u, func(st *unitState) { delete(st.jobs, uid) })
}

// settle drops the jobs of unit u whose commands the reconciler now sees completed, and
// those whose commands are gone, cancelling their handlers — and those of completed
// commands this process had not claimed (a skip, an expiry, another writer's result:
// theirs, not this process's). lookup finds u's commands.
func (r *runner) settle(u unit, lookup func(types.UID) *batonv1.OperatorCommand) {
	r.units.with(u, func(st *unitState) {
		for uid, j := range st.jobs {
			switch c := lookup(uid); {
			case c == nil:
				j.cancel(errCommandGone)
				delete(st.jobs, uid)
			case c.Status.Completed:
				if !j.claimed {
					j.cancel(errCompletedElsewhere)
				}
				delete(st.jobs, uid)
			}
		}
	})
}

// cancelUnit cancels every handler of unit u: a queued one never starts, a running one
// sees its context end and its command fails with reason Cancelled.
func (r *runner) cancelUnit(u unit) {
	r.units.with(u, func(st *unitState) {
		for _, j := range st.jobs {
			j.cancel(errCancelled)
		}
	})
}

// start runs the command's handler in the background unless it already runs here.
func (r *runner) start(u unit, cmd *batonv1.OperatorCommand, plan engine.MemberPlan) {
	var j *job
	var jobCtx context.Context
	var cancel context.CancelCauseFunc
	r.units.with(u, func(st *unitState) {
		if st.jobs[cmd.UID] != nil || r.ctx.Err() != nil {
			return
		}
		jobCtx, cancel = context.WithCancelCause(r.ctx)
		j = &job{cancel: cancel}
		if st.jobs == nil {
			st.jobs = map[types.UID]*job{}
		}
		st.jobs[cmd.UID] = j
		r.wg.Add(1) // under the lock that saw the runner's context alive
	})
	if j == nil {
		return
	}
	var env engine.Env
	if plan.Env != nil {
		env = *plan.Env
	}
	go func() {
		defer r.wg.Done()
		defer cancel(nil)
		r.run(jobCtx, u, j, cmd.DeepCopy(), plan, env)
	}()
}

func (r *runner) run(jobCtx context.Context, u unit, j *job, cmd *batonv1.OperatorCommand, plan engine.MemberPlan, env engine.Env) {
	log := r.log.WithValues("command", client.ObjectKeyFromObject(cmd), "type", cmd.Spec.CommandType)
	handler, ok := r.registry.Lookup(cmd.Spec.CommandType, cmd.Spec.CommandVersion)
	ctx, cancel := withDeadline(jobCtx, plan.Deadline)
	defer cancel()
	// Results are written until the TTL, even when the handler's context ended early.
	writeCtx, cancelWrite := withDeadline(r.ctx, plan.Deadline)
	defer cancelWrite()
	if !ok || !r.loadTrimmed(ctx, cmd, &env) || !r.acquire(ctx, cmd, plan, u) {
		r.release(u, cmd)
		return
	}
	var first <-chan outcome // the first attempt, when it began before the claim
	if r.claimAfter > 0 && steps.IsIdempotent(handler) {
		var finished bool
		if first, finished = r.runUnclaimed(ctx, writeCtx, u, j, cmd, handler, plan, env, log); finished {
			return
		}
	} else if !r.claimFirst(ctx, writeCtx, u, j, cmd, plan, log) {
		return
	}
	payload, err := r.attempts(ctx, writeCtx, u, cmd, handler, plan, env, log, first)
	switch {
	case errors.Is(err, errClaimLost):
		r.release(u, cmd)
		return
	case errors.Is(context.Cause(ctx), errCancelled):
		payload, err = nil, &engine.ReasonError{Reason: batonv1.ReasonCancelled, Message: "sequence cancelled while the step ran"}
	case ctx.Err() != nil:
		// The TTL passed (the engine expires the command), the manager is stopping (the
		// next one re-runs or fails it) or the command is gone: nothing more to write.
		log.Info("handler stopped by its context", "error", context.Cause(ctx).Error())
		return
	}
	if err := r.complete(writeCtx, u, cmd, payload, err); err != nil {
		log.Error(err, "writing the result")
		if isRejected(err) {
			// Even the failure without its payload was refused: the command stays held (a
			// lost executor would run or fail it again) until its TTL expires it.
			return
		}
		r.release(u, cmd)
	}
}

// loadTrimmed gives a command the cache keeps trimmed (CacheTransform) its args, body and
// designators, read from the API server, and its handler's view its args. A transient
// failure is retried with backoff until ctx ends; false when it did, or the command is gone.
func (r *runner) loadTrimmed(ctx context.Context, cmd *batonv1.OperatorCommand, env *engine.Env) bool {
	if !cmd.Spec.Trimmed {
		return true
	}
	stored := &batonv1.OperatorCommand{}
	var wait backoff
	for {
		err := r.writer.apiRead.Get(ctx, client.ObjectKeyFromObject(cmd), stored)
		if err == nil {
			break
		}
		if !isTransient(err) {
			r.log.V(1).Info("reading a trimmed command", "command", client.ObjectKeyFromObject(cmd), "error", err.Error())
			return false
		}
		if wait.wait(ctx, r.clock) != nil {
			return false
		}
	}
	cmd.Spec.Args, cmd.Spec.Body, cmd.Spec.Designators = stored.Spec.Args, stored.Spec.Body, stored.Spec.Designators
	cmd.Spec.Trimmed = false
	env.Args = stored.Spec.Args
	return true
}

func withDeadline(parent context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	if deadline.IsZero() {
		return context.WithCancel(parent)
	}
	return context.WithDeadline(parent, deadline)
}

// acquire takes a concurrency slot. When none is free it first writes the planned Ready
// status, then waits; it gives up when ctx ends or that write fails.
func (r *runner) acquire(ctx context.Context, cmd *batonv1.OperatorCommand, plan engine.MemberPlan, u unit) bool {
	ticket := r.slots.request(priorityOf(u, cmd))
	// A slot freed within slotGrace is not worth a Ready write.
	grace := time.NewTimer(slotGrace)
	defer grace.Stop()
	select {
	case <-ticket.granted:
		return true
	case <-grace.C:
	case <-ctx.Done():
		r.slots.withdraw(ticket)
		return false
	}
	from := cmd.Status.Phase
	if _, err := r.writer.write(ctx, u, cmd, *plan.Status); err != nil {
		r.slots.withdraw(ticket)
		return false
	}
	if from != plan.Status.Phase {
		r.events.command(u, cmd, engine.Event{Reason: batonv1.EventReady, Message: plan.Status.Message})
	}
	return r.slots.await(ctx, ticket)
}

// release forgets a command this process no longer holds, and asks for a reconcile so
// that someone decides again.
func (r *runner) release(u unit, cmd *batonv1.OperatorCommand) {
	r.forget(u, cmd.UID)
	select {
	case r.wake <- event.GenericEvent{Object: cmd}:
	case <-r.ctx.Done():
	}
}

// errNotClaimed says the job's context ended before its claim: cancelled, past its TTL,
// its command gone or the manager stopping.
var errNotClaimed = errors.New("the job ended before its claim")

// claimFirst claims the command before its handler runs, and records Started; false
// (the command released, its slot freed) when the claim was not made.
func (r *runner) claimFirst(jobCtx, writeCtx context.Context, u unit, j *job, cmd *batonv1.OperatorCommand,
	plan engine.MemberPlan, log logr.Logger) bool {
	if err := r.claim(jobCtx, writeCtx, u, j, cmd, plan, r.now(), r.writer.writeOwn); err != nil {
		log.V(1).Info("not claimed; reconciling again", "error", err.Error())
		r.slots.release()
		r.release(u, cmd)
		return false
	}
	r.started(u, cmd)
	return true
}

// started records the Started event of a command this process just claimed.
func (r *runner) started(u unit, cmd *batonv1.OperatorCommand) {
	r.events.command(u, cmd, engine.Event{Reason: batonv1.EventStarted,
		Message: fmt.Sprintf("started by %s (attempt %d)", r.executer, cmd.Status.Attempts)})
}

// claim marks the command started by this executer, guarded by the resourceVersion it was
// planned from: only one claim of a given observation ever succeeds. A job whose context
// (jobCtx) ended is not claimed (mark). began is when the handler began (status.startedAt),
// the claim's own instant for a handler claimed before it runs. write is writeOwn, or
// writeUnclaimed for a handler that began before its claim.
func (r *runner) claim(jobCtx, ctx context.Context, u unit, j *job, cmd *batonv1.OperatorCommand, plan engine.MemberPlan,
	began metav1.Time, write func(context.Context, unit, *batonv1.OperatorCommand, func(*batonv1.OperatorCommandStatus)) error) error {
	if err := r.mark(jobCtx, u, j); err != nil {
		return err
	}
	status := *plan.Status
	status.Started, status.StartedAt = true, &began
	status.Completed, status.CompletedAt = false, nil
	status.Executer = r.executer
	status.Phase = batonv1.CommandRunning
	status.Attempts = cmd.Status.Attempts + 1
	status.Error, status.Payload = nil, nil
	status.Message = fmt.Sprintf("running on %s", r.executer)
	return write(ctx, u, cmd, func(s *batonv1.OperatorCommandStatus) { *s = status })
}

// mark sets the job claimed unless its context (jobCtx) ended: one step under the lock
// that cancelUnit takes (the units' lock), so a cancel either comes first (errNotClaimed: nothing is
// written) or after, and then the write that follows and the cancel's Skipped write,
// guarded by the same resourceVersion, cannot both land.
func (r *runner) mark(jobCtx context.Context, u unit, j *job) error {
	var ended error
	r.units.with(u, func(*unitState) {
		if ended = context.Cause(jobCtx); ended == nil {
			j.claimed = true // before the write: its watch event may come back at once
		}
	})
	if ended != nil {
		return fmt.Errorf("%w: %w", errNotClaimed, ended)
	}
	return nil
}

// attempts runs the handler until it succeeds, fails for good, or runs out of attempts
// or time; first, when not nil, is the first attempt, begun before the claim. It holds a
// concurrency slot while the handler runs (the first one taken before the claim), never
// while it waits out a backoff, and records each retry in status.attempts. It returns
// errClaimLost when the command stopped being this process's.
func (r *runner) attempts(ctx, writeCtx context.Context, u unit, cmd *batonv1.OperatorCommand, handler steps.Handler,
	plan engine.MemberPlan, env engine.Env, log logr.Logger, first <-chan outcome) (any, error) {
	for {
		var payload any
		var err error
		if first != nil {
			payload, err = r.await(ctx, cmd, first, log)
			first = nil
		} else {
			payload, err = r.attempt(ctx, cmd, handler, env, log)
		}
		r.slots.release()
		if !r.retries(ctx, int(cmd.Status.Attempts), plan, err) {
			return payload, err
		}
		delay := engine.RetryDelay(r.opts, int(cmd.Status.Attempts))
		message := engine.ClipMessage(fmt.Sprintf("attempt %d failed: %v; retrying in %s", cmd.Status.Attempts, err, delay))
		if werr := r.writer.writeOwn(writeCtx, u, cmd, func(s *batonv1.OperatorCommandStatus) { s.Attempts++; s.Message = message }); isRejected(werr) {
			return payload, err // no retry the API server refuses to record: this failure is the result
		} else if werr != nil {
			// Not this process's any more (or its TTL passed): the handler's error is no
			// one's to record here.
			return nil, fmt.Errorf("recording a retry: %w: %w", errClaimLost, werr)
		}
		r.events.command(u, cmd, engine.Event{Warning: true, Reason: batonv1.EventRetrying, Message: message})
		select {
		case <-r.clock.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !r.slots.acquire(ctx, priorityOf(u, cmd)) {
			return nil, ctx.Err()
		}
	}
}

// retries reports whether an attempt that failed with err, the done-th, is followed by
// another: a retryable error, attempts left, the retry's backoff within the TTL.
func (r *runner) retries(ctx context.Context, done int, plan engine.MemberPlan, err error) bool {
	return err != nil && ctx.Err() == nil && steps.IsRetryable(err) && done < plan.MaxAttempts &&
		engine.RetryFits(r.opts, done, r.clock.Now(), plan.Deadline)
}

// outcome is what one run of a handler returned.
type outcome struct {
	payload any
	err     error
}

// attempt runs the handler once. A panic is the handler's failure, not the manager's. A
// handler that ignores its context is abandoned abandonGrace after the context ends: its
// goroutine is left behind, logged and counted, and its slot is free again.
func (r *runner) attempt(ctx context.Context, cmd *batonv1.OperatorCommand, handler steps.Handler, env engine.Env, log logr.Logger) (any, error) {
	if ctx.Err() != nil {
		// Ended after the claim (a cancel, the TTL) or during a backoff: the handler is
		// not entered; with a free slot and an ended context both ready, a select may
		// have picked either.
		return nil, ctx.Err()
	}
	return r.await(ctx, cmd, r.begin(ctx, cmd, handler, env, log), log)
}

// begin enters the handler in its own goroutine; its outcome comes on the channel
// returned. A panic is the handler's failure, not the manager's.
func (r *runner) begin(ctx context.Context, cmd *batonv1.OperatorCommand, handler steps.Handler, env engine.Env, log logr.Logger) <-chan outcome {
	done := make(chan outcome, 1)
	started := r.clock.Now()
	// The handler's goroutine may outlive this call, and the result's write decodes into
	// cmd: it reads nothing of cmd but what is taken here.
	commandType, req := cmd.Spec.CommandType, steps.Request{Command: cmd.DeepCopy(), Env: env, Logger: log}
	go func() {
		defer func() {
			stepDuration.WithLabelValues(commandType).Observe(r.clock.Since(started).Seconds())
			if p := recover(); p != nil {
				done <- outcome{err: fmt.Errorf("handler panicked: %v", p)}
			}
		}()
		payload, err := handler.Run(ctx, req)
		done <- outcome{payload, err}
	}()
	return done
}

// await waits for the outcome of begin. A handler that ignores its context is abandoned
// abandonGrace after the context ends.
func (r *runner) await(ctx context.Context, cmd *batonv1.OperatorCommand, done <-chan outcome, log logr.Logger) (any, error) {
	select {
	case res := <-done:
		return res.payload, res.err
	case <-ctx.Done():
	}
	grace := time.NewTimer(abandonGrace)
	defer grace.Stop()
	select {
	case res := <-done:
		return res.payload, res.err
	case <-grace.C:
		abandonedHandlers.WithLabelValues(cmd.Spec.CommandType).Inc()
		log.Error(context.Cause(ctx), "handler ignored the end of its context; abandoned, its slot released")
		return nil, ctx.Err()
	}
}

// complete writes the handler's outcome.
func (r *runner) complete(ctx context.Context, u unit, cmd *batonv1.OperatorCommand, payload any, runErr error) error {
	return r.finish(ctx, u, cmd, payload, runErr, nil)
}

// finish writes the handler's outcome; for a handler that ran unclaimed, began (when it
// began) is not nil and the claim goes in the same write (writeUnclaimed), and then Started
// is recorded before the outcome.
func (r *runner) finish(ctx context.Context, u unit, cmd *batonv1.OperatorCommand, payload any, runErr error, began *metav1.Time) error {
	claim := began != nil
	var data []byte
	if runErr == nil {
		var err error
		if data, err = steps.EncodePayload(payload); err == nil {
			err = engine.CheckPayload(r.opts, data)
		}
		runErr = err
	}
	now := r.now()
	result := func(s *batonv1.OperatorCommandStatus) {
		if claim {
			s.Started, s.StartedAt, s.Executer = true, began, r.executer
			s.Attempts++
			s.Error = nil
		}
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
	write := r.writer.writeOwn
	if claim {
		write = r.writeUnclaimed
	}
	err := write(ctx, u, cmd, result)
	if isRejected(err) {
		// Refused for good: sending it again would be refused again. The step fails with
		// the server's message, without the payload; the handler is not run again.
		data, runErr = nil, &engine.ReasonError{Reason: batonv1.ReasonResultRejected,
			Message: "the API server refused the result: " + serverMessage(err)}
		err = write(ctx, u, cmd, result)
	}
	if err != nil {
		return err
	}
	if claim {
		r.started(u, cmd)
	}
	e := engine.Event{Reason: batonv1.EventReason(cmd.Status.Phase), Message: cmd.Status.Message}
	if cmd.Status.Error != nil {
		e.Warning, e.Reason = true, batonv1.EventReason(cmd.Status.Error.Reason)
	}
	r.events.command(u, cmd, e)
	return nil
}

// serverMessage is the message of the API server's answer in err, else err's text.
func serverMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return status.Status().Message
	}
	return err.Error()
}

// now is the clock's time at the precision the API server keeps (seconds), so what is
// written compares equal to what is read back.
func (r *runner) now() metav1.Time { return metav1.NewTime(r.clock.Now().Truncate(time.Second)) }
