package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// TestOldestFirst: the workqueue hands out the units of older objects first, whatever the
// order of their events; units of one age keep their arrival order, and an update enqueues
// the unit the object left as well as the one it joined.
func TestOldestFirst(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	command := func(key string, created time.Time) *batonv1.OperatorCommand {
		return &batonv1.OperatorCommand{ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: key + "-0", CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{batonv1.LabelSequence: key}}}
	}
	h := oldestFirst{toUnits: func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{requestFor(obj.GetNamespace(), obj.GetLabels()[batonv1.LabelSequence])}
	}}
	q := priorityqueue.New[reconcile.Request]("test")
	defer q.ShutDown()
	ctx := context.Background()

	h.Create(ctx, event.CreateEvent{Object: command("new", t0.Add(time.Minute))}, q)
	h.Generic(ctx, event.GenericEvent{Object: command("same-age-first", t0.Add(time.Second))}, q)
	h.Create(ctx, event.CreateEvent{Object: command("same-age-second", t0.Add(time.Second))}, q)
	h.Update(ctx, event.UpdateEvent{ObjectOld: command("left", t0), ObjectNew: command("joined", t0)}, q)

	var got []string
	for q.Len() > 0 {
		req, _ := q.Get()
		got = append(got, req.Name)
		q.Done(req)
	}
	want := []string{"left", "joined", "same-age-first", "same-age-second", "new"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order served (-want +got):\n%s", diff)
	}
}
