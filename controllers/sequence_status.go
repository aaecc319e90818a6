package controllers

import (
	"context"
	"fmt"
	"sync"
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
// cache does not show yet is taken as created: creating it again would fail and put the
// sequence off by a retry, as it did for one sequence in twenty under a burst. cached
// says whether the cache showed it (false for none, or the one taken as created).
func (r *SequenceReconciler) sequence(ctx context.Context, u unit) (seq *batonv1.CommandSequence, cached bool, err error) {
	if u.standalone {
		return nil, false, nil
	}
	seq = &batonv1.CommandSequence{}
	err = r.client.Get(ctx, client.ObjectKey{Namespace: u.namespace, Name: batonv1.SequenceName(u.key)}, seq)
	switch {
	case err == nil:
		r.created.forget(u)
		return seq, true, nil
	case apierrors.IsNotFound(err):
		return r.created.get(u), false, nil
	}
	return nil, false, fmt.Errorf("reading the sequence %s: %w", u.key, err)
}

// createdSequences are the CommandSequences this process created that its cache may not
// show yet, by unit. The reconcile of a unit, one at a time, writes through its entry, so
// the entry stays current until the cache has it.
type createdSequences struct {
	mu   sync.Mutex
	byID map[string]*batonv1.CommandSequence
}

func (c *createdSequences) put(u unit, seq *batonv1.CommandSequence) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = map[string]*batonv1.CommandSequence{}
	}
	c.byID[u.id()] = seq
}

func (c *createdSequences) get(u unit) *batonv1.CommandSequence {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byID[u.id()]
}

func (c *createdSequences) forget(u unit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byID, u.id())
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
		if err := r.client.Create(ctx, seq); err != nil {
			return nil, time.Time{}, fmt.Errorf("creating the sequence %s: %w", u.key, err)
		}
		r.created.put(u, seq) // no Created event: its creationTimestamp says it
		r.progress.wrote(u)
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
		if due := r.progress.due(u, now); due.After(now) {
			return due, nil // written with the next write, at most progressInterval late
		}
	}
	orig := seq.DeepCopy()
	seq.Status = want
	if err := r.client.Status().Patch(ctx, seq, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		*seq = *orig // it may be the created entry: it must keep saying what is stored
		if apierrors.IsNotFound(err) {
			r.created.forget(u) // deleted before the cache saw it: created again next time
		}
		return time.Time{}, fmt.Errorf("writing the status of sequence %s: %w", u.key, err)
	}
	r.written.wrote(u, seq)
	r.progress.wrote(u)
	return time.Time{}, nil
}
