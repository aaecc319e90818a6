package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/steps"
)

// snapshot turns the cached commands into the engine's input, adding what only this
// process knows: which types have a handler here, and which handlers it holds now.
func (r *SequenceReconciler) snapshot(u unit, cmds []batonv1.OperatorCommand, seq *batonv1.CommandSequence) engine.Snapshot {
	snap := engine.Snapshot{Namespace: u.namespace, Key: u.key, Members: make([]engine.Member, len(cmds))}
	if seq != nil {
		snap.Sequence = &seq.Status
		snap.Cancelled = seq.Annotations[batonv1.AnnotationCancel] == "true"
	}
	holding := r.runner.holding(u)
	for i := range cmds {
		cmd := &cmds[i]
		handler, hasHandler := r.registry.Lookup(cmd.Spec.CommandType, cmd.Spec.CommandVersion)
		claimed, held := holding[cmd.UID]
		snap.Members[i] = engine.Member{
			Name:              cmd.Name,
			Labels:            cmd.Labels,
			Annotations:       cmd.Annotations,
			CommandType:       cmd.Spec.CommandType,
			CommandVersion:    cmd.Spec.CommandVersion,
			Index:             cmd.Spec.CommandIndex,
			Count:             cmd.Spec.CommandCount,
			CreationTimestamp: cmd.CreationTimestamp.Time,
			TTL:               cmd.Spec.TTL.Std(),
			Args:              cmd.Spec.Args,
			Status:            cmd.Status,
			HasHandler:        hasHandler,
			Idempotent:        hasHandler && steps.IsIdempotent(handler),
			InFlight:          claimed,
			Held:              held,
		}
	}
	return snap
}

// normalizeTTLs rewrites a spec.ttl given as a duration string ("5m", "0s") to int64
// nanoseconds, so that clients built on the upstream Go type can decode the object. The
// decoder notes the string form (TTLIsString), so no extra read is needed. A command whose
// gate was opened is never written to: its executor would drop it.
func (r *SequenceReconciler) normalizeTTLs(ctx context.Context, cmds []batonv1.OperatorCommand) error {
	for i := range cmds {
		cmd := &cmds[i]
		if !cmd.Spec.TTLIsString || cmd.Labels[batonv1.LabelGate] == batonv1.GateOpen {
			continue
		}
		patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"ttl":%d}}`, int64(cmd.Spec.TTL)))
		patched := cmd.DeepCopy() // cmd is the cache's object: never written through
		if err := r.client.Patch(ctx, patched, patch); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("normalising the ttl of command %s: %w", cmd.Name, err)
		}
		*cmd = *patched
	}
	return nil
}
