package controllers

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/steps"
)

// TestReconcileCutShortByShutdown: a reconcile whose context ended (the manager stopping)
// returns no error, while the same failure with a live context is one. controller-runtime
// would log the first as a reconcile failure, and no retry comes after a stop.
func TestReconcileCutShortByShutdown(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := batonv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(batonv1.GroupVersion.WithKind("CommandSequence"), meta.RESTScopeNamespace)
	// No API server listens there: every request fails.
	c, err := client.New(&rest.Config{Host: "https://127.0.0.1:1"}, client.Options{Scheme: scheme, Mapper: mapper})
	if err != nil {
		t.Fatal(err)
	}
	r := NewSequenceReconciler(c, c, nil, clock.RealClock{}, steps.NewRegistry(), Options{})
	req := requestFor("ns", sequencePrefix+"a")

	if _, err := r.Reconcile(t.Context(), req); err == nil {
		t.Fatal("a reconcile that cannot reach the API server returned no error")
	}
	stopped, stop := context.WithCancel(t.Context())
	stop()
	if res, err := r.Reconcile(stopped, req); err != nil || !res.IsZero() {
		t.Errorf("a reconcile cut short by shutdown returned %+v, %v; want nothing", res, err)
	}
}
