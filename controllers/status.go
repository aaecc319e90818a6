package controllers

import (
	"context"
	"fmt"
	"maps"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// writeCommandStatus is the one path by which baton writes a command's status: through
// the status subresource, as a merge patch guarded by the resourceVersion cmd was read at,
// so a claim can never succeed twice and a result an executor wrote meanwhile is never
// overwritten (the write fails with a conflict and the next reconcile sees the result).
// It skips a write that would change nothing. On success cmd holds the new object.
func writeCommandStatus(ctx context.Context, c client.Client, cmd *batonv1.OperatorCommand, want batonv1.OperatorCommandStatus) (bool, error) {
	if equality.Semantic.DeepEqual(cmd.Status, want) {
		return false, nil
	}
	orig := cmd.DeepCopy()
	cmd.Status = want
	if err := c.Status().Patch(ctx, cmd, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		*cmd = *orig
		return false, fmt.Errorf("writing the status of command %s: %w", cmd.Name, err)
	}
	if !orig.Status.Phase.Terminal() && want.Phase.Terminal() {
		commandsTotal.WithLabelValues(cmd.Spec.CommandType, string(want.Phase)).Inc()
	}
	return true, nil
}

// addCommandLabels adds labels to a command in one metadata patch, guarded by the
// resourceVersion cmd was read at. It is the gate-opening write.
func addCommandLabels(ctx context.Context, c client.Client, cmd *batonv1.OperatorCommand, labels map[string]string) (bool, error) {
	if hasLabels(cmd.Labels, labels) {
		return false, nil
	}
	orig := cmd.DeepCopy()
	if cmd.Labels == nil {
		cmd.Labels = map[string]string{}
	}
	maps.Copy(cmd.Labels, labels)
	if err := c.Patch(ctx, cmd, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		*cmd = *orig
		return false, fmt.Errorf("opening the gate of command %s: %w", cmd.Name, err)
	}
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
