package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/steps"
)

// snapshot turns the cached commands into the engine's input, adding what only this
// process knows: which types have a handler here, and which handlers run here now.
func (r *SequenceReconciler) snapshot(u unit, cmds []batonv1.OperatorCommand, seq *batonv1.CommandSequence) engine.Snapshot {
	snap := engine.Snapshot{Namespace: u.namespace, Key: u.key, Members: make([]engine.Member, len(cmds))}
	if seq != nil {
		snap.Sequence = &seq.Status
	}
	for i := range cmds {
		cmd := &cmds[i]
		handler, hasHandler := r.registry.Lookup(cmd.Spec.CommandType, cmd.Spec.CommandVersion)
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
			InFlight:          r.runner.inFlight(cmd.UID),
		}
	}
	return snap
}

// normalizeTTLs rewrites a spec.ttl given as a duration string ("5m") to int64
// nanoseconds, so that clients built on the upstream Go type can decode the object. The
// typed cache cannot tell the two forms apart, so a command baton has not seen yet (no
// status.phase) is read raw, once. A command that already carries a routing label is
// visible to its executor and is never written to.
func (r *SequenceReconciler) normalizeTTLs(ctx context.Context, cmds []batonv1.OperatorCommand) error {
	for i := range cmds {
		cmd := &cmds[i]
		if cmd.Status.Phase != "" || cmd.Spec.TTL == 0 || len(batonv1.CarriedRoutingLabels(cmd.Labels)) > 0 {
			continue
		}
		raw := &unstructured.Unstructured{}
		raw.SetGroupVersionKind(batonv1.GroupVersion.WithKind("OperatorCommand"))
		if err := r.apiRead.Get(ctx, client.ObjectKeyFromObject(cmd), raw); apierrors.IsNotFound(err) {
			continue
		} else if err != nil {
			return fmt.Errorf("reading command %s: %w", cmd.Name, err)
		}
		ttl, _, _ := unstructured.NestedFieldNoCopy(raw.Object, "spec", "ttl")
		if _, isString := ttl.(string); !isString {
			continue
		}
		patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"ttl":%d}}`, int64(cmd.Spec.TTL)))
		if err := r.client.Patch(ctx, cmd, patch); err != nil {
			return fmt.Errorf("normalising the ttl of command %s: %w", cmd.Name, err)
		}
	}
	return nil
}
