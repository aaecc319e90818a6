package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/source"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/steps"
)

// eventRecorder records events.k8s.io Events.
type eventRecorder = events.EventRecorder

// Options configure the sequence controller, from the manager's flags.
type Options struct {
	Engine engine.Options
	// FinishedRetention, when positive, deletes a finished sequence and its commands that
	// long after it finished.
	FinishedRetention time.Duration
	// MaxConcurrentSteps bounds the in-process handlers running at once.
	MaxConcurrentSteps int
	// MaxConcurrentReconciles bounds the sequences reconciled at once.
	MaxConcurrentReconciles int
	// ClaimAfter is how long an idempotent in-process handler runs unclaimed: one that
	// returns within it is claimed and completed in one status write, one still running
	// then is claimed then; 0 claims every command before its handler runs.
	ClaimAfter time.Duration
	// Executer is written to status.executer of claimed commands: the pod name.
	Executer string
	// CommandEvents is the --command-events policy; empty means EventsWarnings.
	CommandEvents CommandEvents
}

// SequenceReconciler reconciles one sequence (or one standalone command) per request.
type SequenceReconciler struct {
	client    client.Client
	writer    *statusWriter
	seqWriter *sequenceWriter
	events    *eventPolicy
	clock     clock.Clock
	registry  *steps.Registry
	opts      Options
	runner    *runner
	// units is what this process remembers of each unit between reconciles; index mirrors
	// the cache's commands by unit.
	units *units
	index *memberIndex
}

// NewSequenceReconciler wires a reconciler; the clock and the recorder are injected so
// tests can drive them.
func NewSequenceReconciler(c client.Client, apiReader client.Reader, rec eventRecorder, clk clock.Clock, registry *steps.Registry, opts Options) *SequenceReconciler {
	mem := &units{}
	return &SequenceReconciler{
		client: c, writer: &statusWriter{client: c, apiRead: apiReader, clock: clk, units: mem},
		seqWriter: &sequenceWriter{client: c, units: mem},
		events:    newEventPolicy(rec, opts.CommandEvents, mem), clock: clk, registry: registry, opts: opts,
		units: mem, index: newMemberIndex(registry, opts.Engine),
	}
}

// +kubebuilder:rbac:groups=kubescape.io,resources=operatorcommands,verbs=get;list;watch;patch;delete
// +kubebuilder:rbac:groups=kubescape.io,resources=operatorcommands/status,verbs=patch
// +kubebuilder:rbac:groups=kubescape.io,resources=commandsequences,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups=kubescape.io,resources=commandsequences/status,verbs=patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager registers the controller, its watches (the command watch keeps the
// member index) and the runner of in-process steps.
func (r *SequenceReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	r.runner = newRunner(r.writer, r.units, r.registry, r.events, r.clock, r.opts.Engine, r.opts.Executer,
		r.opts.MaxConcurrentSteps, r.opts.ClaimAfter, mgr.GetLogger().WithName("runner"))
	if err := mgr.Add(r.runner); err != nil {
		return fmt.Errorf("adding the step runner: %w", err)
	}
	toUnit := oldestFirst{toUnits: func(_ context.Context, obj client.Object) []ctrl.Request {
		switch o := obj.(type) {
		case *batonv1.OperatorCommand:
			return []ctrl.Request{requestFor(o.Namespace, unitKey(o))}
		case *batonv1.CommandSequence:
			return []ctrl.Request{requestFor(o.Namespace, sequencePrefix+o.Spec.Key)}
		}
		return nil
	}}
	return ctrl.NewControllerManagedBy(mgr).
		Named("sequence").
		Watches(&batonv1.OperatorCommand{}, indexing{index: r.index, next: toUnit}).
		Watches(&batonv1.CommandSequence{}, toUnit).
		WatchesRawSource(source.Channel(r.runner.wake, toUnit)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.opts.MaxConcurrentReconciles}).
		Complete(r)
}

// Reconcile reconciles the request's unit. One cut short by shutdown is not an error: what
// it was writing may not have landed, and the next start rebuilds everything from the API
// server.
func (r *SequenceReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	u, ok := parseRequest(req)
	if !ok {
		return ctrl.Result{}, nil
	}
	res, err := r.reconcile(ctx, u)
	if err != nil && ctx.Err() != nil {
		return ctrl.Result{}, nil
	}
	return res, err
}

// reconcile loads the unit, asks the engine for a plan, applies it, keeps the
// CommandSequence current, and requeues at the plan's next instant.
func (r *SequenceReconciler) reconcile(ctx context.Context, u unit) (ctrl.Result, error) {
	view := r.index.members(u)
	cmds := view.cmds
	seq, err := r.sequence(ctx, u)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.forgetGone(u, view)
	if len(cmds) == 0 && seq == nil {
		r.units.forget(u)
		return ctrl.Result{}, nil
	}
	// The watch brings this process's last writes and queues the unit again; the requeue
	// is only a safety net.
	const watchBrings = time.Second
	stale := r.units.behind(u, seen(view, seq))
	staleSequence := seq != nil && slices.Contains(stale, seq.UID)
	if len(stale) > 1 || len(stale) == 1 && !staleSequence {
		return ctrl.Result{RequeueAfter: watchBrings}, nil // a command is behind
	}
	if view.stringTTLs > 0 {
		if err := r.normalizeTTLs(ctx, u, cmds); err != nil {
			return requeueOnConflict(err)
		}
	}

	now := r.clock.Now()
	snap := r.snapshot(u, view, seq)
	plan := engine.Decide(snap, r.opts.Engine, now)
	if snap.Cancelled {
		r.runner.cancelUnit(u)
	}
	if err := r.applyMembers(ctx, u, cmds, plan, now); err != nil {
		return requeueOnConflict(err)
	}
	if staleSequence {
		return ctrl.Result{RequeueAfter: watchBrings}, nil
	}
	var progressAt time.Time
	if !u.standalone {
		if seq, progressAt, err = r.syncSequence(ctx, u, seq, plan, now); err != nil {
			return requeueOnConflict(err)
		}
	}
	r.units.setPhase(u, plan.Status.Phase)

	retireAt, err := r.retire(ctx, u, cmds, seq, plan, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: untilEarliest(now, plan.NextWake, retireAt, progressAt)}, nil
}

// seen finds an object of the unit's view by UID: the sequence or one of its commands; nil
// when the view holds none.
func seen(v unitView, seq *batonv1.CommandSequence) func(types.UID) client.Object {
	return func(uid types.UID) client.Object {
		if seq != nil && seq.UID == uid {
			return seq
		}
		if cmd := v.lookup(uid); cmd != nil {
			return cmd
		}
		return nil
	}
}

// forgetGone drops what this process remembers of the unit's commands that are gone
// (handlers it holds, Ungated warnings given), and the jobs of those it sees completed.
func (r *SequenceReconciler) forgetGone(u unit, v unitView) {
	r.runner.settle(u, v.lookup)
	r.events.forgetGone(u, v.lookup)
}

// requeueOnConflict turns a lost race with the cache into a quiet retry: an object changed
// (conflict) or appeared (already exists) since the cache saw it, and the watch brings it.
func requeueOnConflict(err error) (ctrl.Result, error) {
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
	}
	return ctrl.Result{}, err
}

// untilEarliest is the delay until the earliest non-zero instant, or 0 for none.
func untilEarliest(now time.Time, instants ...time.Time) time.Duration {
	var earliest time.Time
	for _, t := range instants {
		if !t.IsZero() && (earliest.IsZero() || t.Before(earliest)) {
			earliest = t
		}
	}
	if earliest.IsZero() {
		return 0
	}
	// A wake-up already due still needs a positive delay: 0 means "never" to the queue.
	return max(earliest.Sub(now), time.Millisecond)
}
