package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// normalizeTTLs rewrites a spec.ttl given as a duration string ("5m", "0s") to int64
// nanoseconds, so that clients built on the upstream Go type can decode the object. The
// decoder notes the string form (TTLIsString), so no extra read is needed. A command whose
// gate was opened, or that carries a routing label, is never written to: its executor may
// already hold it, and the Kubescape operator drops a command modified within its
// cooldown. Its string is read instead (DESIGN 1).
func (r *SequenceReconciler) normalizeTTLs(ctx context.Context, u unit, cmds []*batonv1.OperatorCommand) error {
	for i, cmd := range cmds {
		if !ttlToRewrite(cmd) {
			continue
		}
		patched := cmd.DeepCopy() // cmd is the cache's object: never written through
		if err := r.writer.rewriteTTL(ctx, u, patched); err != nil {
			return err
		}
		cmds[i] = patched
	}
	return nil
}

// ttlToRewrite reports whether cmd's spec.ttl is a duration string baton rewrites: neither
// its gate opened nor a routing label carried.
func ttlToRewrite(cmd *batonv1.OperatorCommand) bool {
	return cmd.Spec.TTLIsString && cmd.Labels[batonv1.LabelGate] != batonv1.GateOpen &&
		len(batonv1.CarriedRoutingLabels(cmd.Labels)) == 0
}

// rewriteTTL writes cmd's spec.ttl as int64 nanoseconds; a command already gone is no
// error.
func (w *statusWriter) rewriteTTL(ctx context.Context, u unit, cmd *batonv1.OperatorCommand) error {
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"ttl":%d}}`, int64(cmd.Spec.TTL)))
	if err := w.client.Patch(ctx, cmd, patch); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("normalising the ttl of command %s: %w", cmd.Name, err))
	}
	w.units.wrote(u, cmd)
	return nil
}
