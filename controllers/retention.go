package controllers

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// retire deletes a finished unit --finished-retention after it finished, like a Job's
// ttlSecondsAfterFinished. It returns when to look again, zero for never.
func (r *SequenceReconciler) retire(ctx context.Context, u unit, cmds []*batonv1.OperatorCommand, seq *batonv1.CommandSequence, plan engine.Plan, now time.Time) (time.Time, error) {
	finished := plan.Status.CompletedAt
	if u.standalone && len(cmds) == 1 {
		// A standalone command has no recorded sequence status: its own completion counts.
		finished = cmds[0].Status.CompletedAt
	}
	if r.opts.FinishedRetention <= 0 || !plan.Status.Phase.Terminal() || finished == nil {
		return time.Time{}, nil
	}
	at := finished.Add(r.opts.FinishedRetention)
	if now.Before(at) {
		return at, nil
	}
	for i := range cmds {
		if err := r.client.Delete(ctx, cmds[i].DeepCopy(), client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return time.Time{}, fmt.Errorf("deleting finished command %s: %w", cmds[i].Name, err)
		}
	}
	if seq != nil {
		if err := r.seqWriter.delete(ctx, u, seq); err != nil {
			return time.Time{}, err
		}
	}
	r.units.setPhase(u, "")
	return time.Time{}, nil
}
