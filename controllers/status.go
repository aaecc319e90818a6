package controllers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// statusWriter is the one path by which baton writes a command's status: through the
// status subresource, as a merge patch guarded by the resourceVersion cmd was read at, so a
// claim can never succeed twice and a result an executor wrote meanwhile is never
// overwritten (the write fails with a conflict and the next reconcile sees the result).
//
// It records each write in the unit's memory (units) where it makes it, so no caller does,
// and so does every other write to a command (addLabels, rewriteTTL).
type statusWriter struct {
	client  client.Client
	apiRead client.Reader
	clock   clock.Clock
	units   *units
}

// write writes want unless it would change nothing, and reports whether it wrote. On
// success cmd holds the new object; on failure it is unchanged.
func (w *statusWriter) write(ctx context.Context, u unit, cmd *batonv1.OperatorCommand, want batonv1.OperatorCommandStatus) (bool, error) {
	if equality.Semantic.DeepEqual(cmd.Status, want) {
		return false, nil
	}
	orig := cmd.DeepCopy()
	// A copy: want's pointers may be shared (a plan's one instant for all its writes, the
	// cached object's timestamps), and the patch's response is decoded into cmd.
	cmd.Status = *want.DeepCopy()
	if err := w.client.Status().Patch(ctx, cmd, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		*cmd = *orig
		return false, fmt.Errorf("writing the status of command %s: %w", cmd.Name, err)
	}
	w.units.wrote(u, cmd)
	if !orig.Status.Phase.Terminal() && want.Phase.Terminal() {
		commandsTotal.WithLabelValues(cmd.Spec.CommandType, string(want.Phase)).Inc()
	}
	return true, nil
}

// errClaimLost says the command is no longer this executer's claim.
var errClaimLost = errors.New("the command is no longer this executer's claim")

// Backoff between attempts that failed for a transient reason.
const (
	ownWriteBaseDelay = 100 * time.Millisecond
	ownWriteMaxDelay  = 5 * time.Second
)

// backoff spaces the attempts of a holder's read or write that failed for a transient
// reason: ownWriteBaseDelay, doubling up to ownWriteMaxDelay.
type backoff struct{ next time.Duration }

// wait sleeps until the next attempt, or returns ctx's error if ctx ends first.
func (b *backoff) wait(ctx context.Context, clk clock.Clock) error {
	if b.next == 0 {
		b.next = ownWriteBaseDelay
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clk.After(b.next):
	}
	b.next = min(2*b.next, ownWriteMaxDelay)
	return nil
}

// writeOwn changes the status of a command this process holds, and keeps trying until ctx
// ends (the command's TTL): a write that fails for a transient reason (unavailable,
// timeout, reset) is retried with backoff, since the holder is alive and its result must
// not be lost. After a conflict the command is read again: if it already shows the change
// (an earlier attempt landed though its answer was lost), that is success; if its status
// is still what this process last saw (only its metadata changed), the change is applied
// to the new version; otherwise someone else owns the status now (errClaimLost).
func (w *statusWriter) writeOwn(ctx context.Context, u unit, cmd *batonv1.OperatorCommand, change func(*batonv1.OperatorCommandStatus)) error {
	return w.writeGuarded(ctx, u, cmd, change, func(fresh *batonv1.OperatorCommand) bool {
		return equality.Semantic.DeepEqual(fresh.Status, cmd.Status)
	})
}

// writeUnclaimed is writeOwn for a command whose idempotent handler ran (or runs) before
// any claim: the claim, or the claim and the result in one write. The command may have
// changed since it was read (a Ready write, a metadata patch, another manager's plan);
// after a conflict the change is applied to the new version as long as that is still
// not completed (a cancel's Skipped, the TTL's Expired, another executor's result win)
// and not started by another executer; otherwise errClaimLost.
func (w *statusWriter) writeUnclaimed(ctx context.Context, u unit, cmd *batonv1.OperatorCommand, executer string, change func(*batonv1.OperatorCommandStatus)) error {
	return w.writeGuarded(ctx, u, cmd, change, func(fresh *batonv1.OperatorCommand) bool {
		return !fresh.Status.Completed && (!fresh.Status.Started || fresh.Status.Executer == executer)
	})
}

// writeGuarded writes change on cmd's status, retrying transient failures until ctx ends;
// after a conflict it reads the command again from the API server, and applies the change
// to the new version when mine says the command is still this process's to write.
func (w *statusWriter) writeGuarded(ctx context.Context, u unit, cmd *batonv1.OperatorCommand, change func(*batonv1.OperatorCommandStatus),
	mine func(fresh *batonv1.OperatorCommand) bool) error {
	var wait backoff
	for {
		want := *cmd.Status.DeepCopy()
		change(&want)
		_, err := w.write(ctx, u, cmd, want)
		switch {
		case err == nil:
			return nil
		case apierrors.IsNotFound(err):
			return fmt.Errorf("%w: %w", errClaimLost, err)
		case apierrors.IsConflict(err):
			fresh := &batonv1.OperatorCommand{}
			if gerr := w.apiRead.Get(ctx, client.ObjectKeyFromObject(cmd), fresh); apierrors.IsNotFound(gerr) {
				return fmt.Errorf("%w: %w", errClaimLost, gerr)
			} else if gerr == nil {
				switch {
				case equality.Semantic.DeepEqual(fresh.Status, want):
					*cmd = *fresh
					return nil
				case !mine(fresh):
					return errClaimLost
				}
				*cmd = *fresh
				continue
			}
		case !isTransient(err):
			return err
		}
		if werr := wait.wait(ctx, w.clock); werr != nil {
			return fmt.Errorf("%w (gave up at the command's TTL: %w)", err, werr)
		}
	}
}

// isTransient reports whether a failed write may succeed if sent again unchanged.
func isTransient(err error) bool {
	switch {
	case isRejected(err), apierrors.IsUnauthorized(err), apierrors.IsNotFound(err),
		apierrors.IsMethodNotSupported(err), errors.Is(err, context.Canceled):
		return false
	}
	return true
}

// addLabels adds labels to a command in one metadata patch, guarded by the
// resourceVersion cmd was read at. It is the gate-opening write.
func (w *statusWriter) addLabels(ctx context.Context, u unit, cmd *batonv1.OperatorCommand, labels map[string]string) (bool, error) {
	if hasLabels(cmd.Labels, labels) {
		return false, nil
	}
	orig := cmd.DeepCopy()
	if cmd.Labels == nil {
		cmd.Labels = map[string]string{}
	}
	maps.Copy(cmd.Labels, labels)
	if err := w.client.Patch(ctx, cmd, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		*cmd = *orig
		return false, fmt.Errorf("opening the gate of command %s: %w", cmd.Name, err)
	}
	w.units.wrote(u, cmd)
	return true, nil
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// isRejected reports whether the API server refused a write for good: sent again
// unchanged, it would be refused again (400, 403, 413, 422, or etcd's "request is too
// large", which comes as a 500).
func isRejected(err error) bool {
	switch {
	case apierrors.IsBadRequest(err), apierrors.IsForbidden(err), apierrors.IsRequestEntityTooLargeError(err),
		apierrors.IsInvalid(err):
		return true
	case apierrors.IsInternalError(err):
		return strings.Contains(err.Error(), "request is too large")
	}
	return false
}
