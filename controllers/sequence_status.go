package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// sequence fetches the unit's CommandSequence from the cache; nil when there is none (or
// the unit is a standalone command, which has none). One this process created that the
// cache does not show yet is taken as created.
func (r *SequenceReconciler) sequence(ctx context.Context, u unit) (*batonv1.CommandSequence, error) {
	if u.standalone {
		return nil, nil
	}
	seq := &batonv1.CommandSequence{}
	err := r.client.Get(ctx, client.ObjectKey{Namespace: u.namespace, Name: batonv1.SequenceName(u.key)}, seq)
	switch {
	case err == nil:
		r.seqWriter.forgetCreated(u)
		return seq, nil
	case apierrors.IsNotFound(err):
		return r.seqWriter.created(u), nil
	}
	return nil, fmt.Errorf("reading the sequence %s: %w", u.key, err)
}

// syncSequence creates the CommandSequence on first sight and writes the planned status
// when it differs: the final phase (and so the report, once) at once, anything else
// (progress, and the change to Running) at most once per progressInterval. It returns
// when coalesced progress is due, zero for nothing pending.
func (r *SequenceReconciler) syncSequence(ctx context.Context, u unit, seq *batonv1.CommandSequence, plan engine.Plan, now time.Time) (*batonv1.CommandSequence, time.Time, error) {
	if seq == nil {
		seq = &batonv1.CommandSequence{
			ObjectMeta: metav1.ObjectMeta{Namespace: u.namespace, Name: batonv1.SequenceName(u.key)},
			Spec:       batonv1.CommandSequenceSpec{Key: u.key},
		}
		if len(validation.IsValidLabelValue(u.key)) == 0 {
			seq.Labels = map[string]string{batonv1.LabelSequence: u.key}
		}
		if err := r.seqWriter.create(ctx, u, seq); err != nil {
			return nil, time.Time{}, err
		}
		// no Created event: its creationTimestamp says it
	}
	due, err := r.writeSequenceStatus(ctx, u, seq, plan.Status, now)
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, e := range plan.Events {
		// A start or end event is recorded with the status that shows it: until that is
		// written it describes nothing that happened, and the next plan says it again. A
		// sequence whose Running was never written gets both with its final status, in
		// order.
		if due.IsZero() || !e.PhaseChange {
			r.events.sequence(u, seq, e)
		}
	}
	return seq, due, nil
}

// writeSequenceStatus writes want unless it changes nothing or is progress that may wait;
// it returns when waiting progress is due.
func (r *SequenceReconciler) writeSequenceStatus(ctx context.Context, u unit, seq *batonv1.CommandSequence, want batonv1.CommandSequenceStatus, now time.Time) (time.Time, error) {
	want.ObservedGeneration = seq.Generation
	if equality.Semantic.DeepEqual(seq.Status, want) {
		return time.Time{}, nil
	}
	// Progress, the Assembling a new sequence starts in, and its change to Running may
	// wait; its final phase may not. Like a Pod that finishes before anyone sees it run, a
	// sequence that ends within its first progressInterval goes from Assembling (or no
	// status) straight to its final phase in one write, startedAt, current batch and start
	// event included.
	if !want.Phase.Terminal() {
		if due := r.units.progressDue(u, now); due.After(now) {
			return due, nil // written with the next write, at most progressInterval late
		}
	}
	return time.Time{}, r.seqWriter.writeStatus(ctx, u, seq, want)
}
