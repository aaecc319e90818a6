package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// sequenceWriter is the one path by which baton writes a CommandSequence, beside
// statusWriter for commands. It records each write in the unit's memory (units) where it
// makes it, so no caller does: what it wrote that the cache may not show yet, the sequence
// it created, and that no progress waits any more.
type sequenceWriter struct {
	client client.Client
	units  *units
}

// create creates seq. The unit then takes it as created until the cache shows it:
// creating it again would fail and put the sequence off by a retry.
func (w *sequenceWriter) create(ctx context.Context, u unit, seq *batonv1.CommandSequence) error {
	if err := w.client.Create(ctx, seq); err != nil {
		return fmt.Errorf("creating the sequence %s: %w", u.key, err)
	}
	w.units.with(u, func(st *unitState) {
		st.created = seq
		st.progressSince = time.Time{}
		wroteLocked(st, seq)
	})
	return nil
}

// writeStatus writes want to seq's status, as a merge patch guarded by the resourceVersion
// seq was read at. On success seq holds the new object (the created entry is written
// through, so it keeps saying what is stored); on failure it is unchanged.
func (w *sequenceWriter) writeStatus(ctx context.Context, u unit, seq *batonv1.CommandSequence, want batonv1.CommandSequenceStatus) error {
	orig := seq.DeepCopy()
	seq.Status = want
	if err := w.client.Status().Patch(ctx, seq, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		*seq = *orig
		if apierrors.IsNotFound(err) {
			w.forgetCreated(u) // deleted before the cache saw it: created again next time
		}
		return fmt.Errorf("writing the status of sequence %s: %w", u.key, err)
	}
	w.units.with(u, func(st *unitState) {
		st.progressSince = time.Time{}
		wroteLocked(st, seq)
	})
	return nil
}

// delete deletes seq; a sequence already gone is no error.
func (w *sequenceWriter) delete(ctx context.Context, u unit, seq *batonv1.CommandSequence) error {
	w.forgetCreated(u)
	if err := w.client.Delete(ctx, seq); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("deleting the sequence %s: %w", seq.Name, err)
	}
	return nil
}

// created is the sequence this process created that the cache does not show yet, nil
// for none.
func (w *sequenceWriter) created(u unit) *batonv1.CommandSequence {
	var seq *batonv1.CommandSequence
	w.units.with(u, func(st *unitState) { seq = st.created })
	return seq
}

// forgetCreated drops the created sequence: the cache shows it, or it is gone.
func (w *sequenceWriter) forgetCreated(u unit) {
	w.units.with(u, func(st *unitState) { st.created = nil })
}
