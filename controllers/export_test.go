package controllers

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
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
	r.runner = newRunner(r.writer, r.units, r.registry, r.events, r.clock, opts.Engine, opts.Executer, 1, opts.ClaimAfter, logr.Discard())
	return &UnitReconciler{r: r, u: unit{namespace: namespace, index: sequencePrefix + key, key: key}}
}

// File puts cmd in the member index, replacing the version filed before.
func (h *UnitReconciler) File(cmd *batonv1.OperatorCommand) { h.r.index.put(cmd) }

func (h *UnitReconciler) Reconcile(ctx context.Context) (ctrl.Result, error) {
	return h.r.reconcile(ctx, h.u)
}

// StepRunner drives the runner of in-process steps by hand, with one concurrency slot,
// its writes going through c; what it wakes is dropped (nothing reconciles here).
type StepRunner struct{ r *runner }

func NewStepRunner(c client.Client, rec eventRecorder, registry *steps.Registry) *StepRunner {
	mem := &units{}
	w := &statusWriter{client: c, apiRead: c, clock: clock.RealClock{}, units: mem}
	r := newRunner(w, mem, registry, newEventPolicy(rec, EventsAll, mem), clock.RealClock{}, engine.Options{}, "test", 1, 0, logr.Discard())
	go func() {
		for {
			select {
			case <-r.wake:
			case <-r.ctx.Done():
				return
			}
		}
	}()
	return &StepRunner{r: r}
}

// StartThenCancel starts the standalone command's handler as a plan to run it would, at
// once cancels it as a cancelled sequence does, and waits until the runner let go of it.
func (s *StepRunner) StartThenCancel(cmd *batonv1.OperatorCommand, deadline time.Time) {
	u := unit{namespace: cmd.Namespace, index: "cmd:" + cmd.Name, key: cmd.Name, standalone: true}
	ready := batonv1.OperatorCommandStatus{Phase: batonv1.CommandReady}
	s.r.start(u, cmd, engine.MemberPlan{Name: cmd.Name, Action: engine.ActionRun, Status: &ready, Deadline: deadline, MaxAttempts: 1})
	s.r.cancelUnit(u)
	s.r.wg.Wait()
}

// Stop ends the runner's context.
func (s *StepRunner) Stop() { s.r.cancel() }

// ApplyStatus writes status to the standalone command cached as a plan's ActionSetStatus
// does (applyMember), through c.
func ApplyStatus(ctx context.Context, c client.Client, rec eventRecorder, cached *batonv1.OperatorCommand, status *batonv1.OperatorCommandStatus) error {
	r := NewSequenceReconciler(c, c, rec, clock.RealClock{}, steps.NewRegistry(), Options{})
	u := unit{namespace: cached.Namespace, index: "cmd:" + cached.Name, key: cached.Name, standalone: true}
	mp := &engine.MemberPlan{Name: cached.Name, Action: engine.ActionSetStatus, Status: status}
	return r.applyMember(ctx, u, &gateTimes{cmds: []*batonv1.OperatorCommand{cached}}, cached, mp, time.Now())
}
