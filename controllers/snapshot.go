package controllers

import (
	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// snapshot is the engine's input: the unit's members as indexed, plus what only this
// process knows, which handlers it holds now.
func (r *SequenceReconciler) snapshot(u unit, v unitView, seq *batonv1.CommandSequence) engine.Snapshot {
	snap := engine.Snapshot{Namespace: u.namespace, Key: u.key, Members: v.members, Summary: v.summary}
	if seq != nil {
		snap.Sequence = &seq.Status
		snap.Cancelled = seq.Annotations[batonv1.AnnotationCancel] == "true"
	}
	for uid, claimed := range r.runner.holding(u) {
		if i, ok := v.find(uid); ok {
			m := *v.members[i] // the index's: copied, not written through
			m.InFlight, m.Held = claimed, true
			v.members[i] = &m
		}
	}
	return snap
}
