package controllers

import (
	"context"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// oldestFirst enqueues the units an object maps to with a priority that falls with the
// object's age, so the workqueue serves older sequences first — the order in which the
// slot pool hands out handler slots. A running sequence's next batch is then decided
// before a later sequence's first: under a burst, sequences finish in arrival order, which
// bounds gate latency instead of letting every step wait for a step of every other
// sequence. Requests of one age keep their arrival order.
type oldestFirst struct {
	toUnits handler.MapFunc
}

var _ handler.EventHandler = oldestFirst{}

type requestQueue = workqueue.TypedRateLimitingInterface[reconcile.Request]

func (h oldestFirst) Create(ctx context.Context, e event.CreateEvent, q requestQueue) {
	h.add(ctx, q, e.Object)
}

// Update enqueues the units of the old object too: a relabelled command leaves one.
func (h oldestFirst) Update(ctx context.Context, e event.UpdateEvent, q requestQueue) {
	h.add(ctx, q, e.ObjectOld, e.ObjectNew)
}

func (h oldestFirst) Delete(ctx context.Context, e event.DeleteEvent, q requestQueue) {
	h.add(ctx, q, e.Object)
}

func (h oldestFirst) Generic(ctx context.Context, e event.GenericEvent, q requestQueue) {
	h.add(ctx, q, e.Object)
}

func (h oldestFirst) add(ctx context.Context, q requestQueue, objs ...client.Object) {
	for _, obj := range objs {
		if obj != nil {
			h.addNow(ctx, q, obj)
		}
	}
}

// addNow enqueues obj's units, the oldest object's first.
func (h oldestFirst) addNow(ctx context.Context, q requestQueue, obj client.Object) {
	reqs := h.toUnits(ctx, obj)
	pq, prioritised := q.(priorityqueue.PriorityQueue[reconcile.Request])
	if !prioritised {
		for _, req := range reqs {
			q.Add(req)
		}
		return
	}
	priority := agePriority(obj)
	pq.AddWithOpts(priorityqueue.AddOpts{Priority: &priority}, reqs...)
}

// agePriority is higher the older the object: minus its creation time in Unix seconds.
func agePriority(obj client.Object) int { return -int(obj.GetCreationTimestamp().Unix()) }
