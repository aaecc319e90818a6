package controllers

import (
	"context"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/steps"
)

// UnitReconciler reconciles one sequence by hand, for specs that arrange what the
// reconciler's view holds: its cached reads go through c, and its member index holds what
// File gave it, as if the command watch had brought exactly that.
type UnitReconciler struct {
	r *SequenceReconciler
	u unit
}

func NewUnitReconciler(c client.Client, apiReader client.Reader, rec eventRecorder, clk clock.Clock, namespace, key string, opts Options) *UnitReconciler {
	r := NewSequenceReconciler(c, apiReader, rec, clk, steps.NewRegistry(), opts)
	r.runner = newRunner(r.writer, r.registry, r.events, r.clock, opts.Engine, opts.Executer, 1, logr.Discard())
	return &UnitReconciler{r: r, u: unit{namespace: namespace, index: sequencePrefix + key, key: key}}
}

// File puts cmd in the member index, replacing the version filed before.
func (h *UnitReconciler) File(cmd *batonv1.OperatorCommand) { h.r.index.put(cmd) }

func (h *UnitReconciler) Reconcile(ctx context.Context) (ctrl.Result, error) {
	return h.r.reconcile(ctx, h.u)
}
