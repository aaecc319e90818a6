package controllers

import (
	"context"
	"errors"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/steps"
)

// One write for a quick idempotent step (DESIGN 4): a handler declared idempotent runs
// before its command is claimed. If it returns within claimAfter, its claim and its result
// are one status write, guarded by the resourceVersion the handler started from (Pending
// or Ready → Succeeded/Failed, Running implied). Still running at claimAfter, it is
// claimed then, and finishes as a claimed step does. A handler not declared idempotent is
// always claimed before it runs (claimFirst).
//
// While the job is unclaimed the command reads Pending or Ready and the job is held
// (engine Member.Held) but not in flight: the engine plans nothing more for it, and a
// cancel, an expiry or a predecessor's failure completes it as it would a command no one
// runs. The runner then writes nothing: a cancel or the TTL ends the handler's context
// before the job is marked claimed (mark, under the lock cancelUnit takes), and a write
// that lost the race to such a write finds the command completed when it re-reads it
// (writeUnclaimed) and drops the result. Across a leader failover the next manager may
// run the step again meanwhile: its idempotency allows that, and only one result lands.

// runUnclaimed runs the first attempt of an idempotent handler before the claim. finished
// is true when nothing more is to be done here: the result and the claim were written in
// one write, or dropped (the command changed hands, or the job ended unclaimed). Otherwise
// the command is now claimed and first is the attempt, still running or, for a retryable
// failure with retries left, done: the caller carries on as for a claimed step.
func (r *runner) runUnclaimed(ctx, writeCtx context.Context, u unit, j *job, cmd *batonv1.OperatorCommand,
	handler steps.Handler, plan engine.MemberPlan, env engine.Env, log logr.Logger) (first <-chan outcome, finished bool) {
	if ctx.Err() != nil {
		// Cancelled, expired or gone before it began: the handler is never entered.
		r.slots.release()
		r.release(u, cmd)
		return nil, true
	}
	began := r.now()
	done := r.begin(ctx, cmd, handler, env, log)
	claimAt := r.clock.NewTimer(r.claimAfter)
	defer claimAt.Stop()
	select {
	case res := <-done:
		if r.retries(ctx, int(cmd.Status.Attempts)+1, plan, res.err) {
			// A retry follows: the command is claimed first, and retried as a claimed
			// step is, each retry recorded.
			first := make(chan outcome, 1)
			first <- res
			return first, !r.claimLate(ctx, writeCtx, u, j, cmd, plan, began, first, log)
		}
		r.slots.release()
		r.completeUnclaimed(ctx, writeCtx, u, j, cmd, began, res, log)
		return nil, true
	case <-claimAt.C():
		return done, !r.claimLate(ctx, writeCtx, u, j, cmd, plan, began, done, log)
	case <-ctx.Done():
		r.dropUnclaimed(ctx, u, cmd, done, log)
		return nil, true
	}
}

// claimLate claims a command whose handler began unclaimed, at began (its startedAt: when
// the handler began, not the claim's late instant), and records Started. When the
// claim is not made, the handler's context is ended, its outcome awaited and dropped, its
// slot freed and the command released; false then.
func (r *runner) claimLate(ctx, writeCtx context.Context, u unit, j *job, cmd *batonv1.OperatorCommand,
	plan engine.MemberPlan, began metav1.Time, done <-chan outcome, log logr.Logger) bool {
	err := r.claim(ctx, writeCtx, u, j, cmd, plan, began, r.writeUnclaimed)
	if err == nil {
		r.started(u, cmd)
		return true
	}
	log.V(1).Info("not claimed after the handler began; its result is dropped", "error", err.Error())
	j.cancel(errClaimLost)
	r.dropUnclaimed(ctx, u, cmd, done, log)
	return false
}

// completeUnclaimed writes the claim and the outcome of a handler that returned within
// claimAfter, in one write, startedAt when it began; nothing when the job's context ended first (a cancel, the TTL:
// the reconciler's write wins) or the command changed hands meanwhile.
func (r *runner) completeUnclaimed(ctx, writeCtx context.Context, u unit, j *job, cmd *batonv1.OperatorCommand,
	began metav1.Time, res outcome, log logr.Logger) {
	if err := r.mark(ctx, u, j); err != nil {
		log.V(1).Info("ended before its result was written; nothing written", "error", err.Error())
		r.release(u, cmd)
		return
	}
	err := r.finish(writeCtx, u, cmd, res.payload, res.err, &began)
	switch {
	case err == nil:
	case errors.Is(err, errClaimLost):
		log.V(1).Info("the command changed hands while its handler ran unclaimed; result dropped", "error", err.Error())
		r.release(u, cmd)
	case isRejected(err):
		// Even the failure without its payload was refused: held until its TTL expires
		// it, as complete's caller does.
		log.Error(err, "writing the result")
	default:
		log.Error(err, "writing the result")
		r.release(u, cmd)
	}
}

// dropUnclaimed lets go of a job that ended unclaimed: its handler's outcome is awaited
// (or the handler abandoned) and dropped, its slot freed, and the command released.
func (r *runner) dropUnclaimed(ctx context.Context, u unit, cmd *batonv1.OperatorCommand, done <-chan outcome, log logr.Logger) {
	_, _ = r.await(ctx, cmd, done, log)
	r.slots.release()
	r.release(u, cmd)
}

// writeUnclaimed is the statusWriter's writeUnclaimed for this executer.
func (r *runner) writeUnclaimed(ctx context.Context, u unit, cmd *batonv1.OperatorCommand, change func(*batonv1.OperatorCommandStatus)) error {
	return r.writer.writeUnclaimed(ctx, u, cmd, r.executer, change)
}
