package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/manager/app"
	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

// TestLeaseScope runs the manager with leader election against a real API server beside
// the leases of other (pretend) managers: a live lease whose scope overlaps refuses the
// start, a lapsed or disjoint one does not, and the lease a manager holds records its scope.
func TestLeaseScope(t *testing.T) {
	ctrl.SetLogger(logr.Discard())
	env, cfg, c, err := localcluster.StartEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	ctx := context.Background()
	for _, ns := range []string{"baton-system", "elsewhere"} {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}

	// otherLease stands for another manager's lease, renewed `renewed` ago for 15 s.
	otherLease := func(t *testing.T, namespace, scope string, renewed time.Duration) {
		t.Helper()
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name: "other-manager", Namespace: namespace,
				Labels:      map[string]string{batonv1.LabelScopeLease: batonv1.ScopeLeaseValue},
				Annotations: map[string]string{batonv1.AnnotationScope: scope},
			},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To("other-pod"),
				RenewTime:            &metav1.MicroTime{Time: time.Now().Add(-renewed)},
				LeaseDurationSeconds: ptr.To[int32](15),
			},
		}
		if err := c.Create(ctx, l); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Delete(ctx, l) })
	}
	// start runs a manager watching namespaces until the test ends.
	start := func(t *testing.T, namespaces ...string) *result {
		t.Helper()
		opts := app.DefaultOptions()
		opts.MetricsBindAddress, opts.HealthProbeBindAddress = "0", "0"
		opts.LeaderElect, opts.LeaderElectionNamespace, opts.Namespaces = true, "baton-system", namespaces
		runCtx, cancel := context.WithCancel(ctx)
		r := &result{done: make(chan struct{})}
		go func() {
			defer close(r.done)
			r.err = app.Run(runCtx, cfg, opts, steps.NewRegistry())
		}()
		t.Cleanup(func() {
			cancel()
			select {
			case <-r.done:
			case <-time.After(30 * time.Second):
				t.Error("manager still running 30s after its context ended")
			}
		})
		return r
	}
	refused := func(t *testing.T, r *result, want string) {
		t.Helper()
		select {
		case <-r.done:
			if r.err == nil || !strings.Contains(r.err.Error(), "refusing to start") || !strings.Contains(r.err.Error(), want) {
				t.Fatalf("manager stopped with %v, want a refusal naming %s", r.err, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("manager still running after 30s, want a refusal to start")
		}
	}
	// holds waits until the manager holds its lease and the lease records scope.
	holds := func(t *testing.T, r *result, scope string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var list coordinationv1.LeaseList
			if err := c.List(ctx, &list, client.InNamespace("baton-system"), client.MatchingLabels{batonv1.LabelScopeLease: batonv1.ScopeLeaseValue}); err != nil {
				t.Fatal(err)
			}
			for _, l := range list.Items {
				if l.Annotations[batonv1.AnnotationScope] == scope && ptr.Deref(l.Spec.HolderIdentity, "") != "" {
					return
				}
			}
			select {
			case <-r.done:
				t.Fatalf("manager stopped with %v, want it to hold a lease with scope %q", r.err, scope)
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no held lease with scope %q after 30s: %v", scope, list.Items)
			}
		}
	}

	t.Run("a live lease sharing a namespace refuses the start", func(t *testing.T) {
		otherLease(t, "baton-system", "team-b,team-c", time.Second)
		refused(t, start(t, "team-a", "team-b"), `lease baton-system/other-manager (scope "team-b,team-c", held by other-pod`)
	})
	t.Run("a live all-namespaces lease in another namespace refuses the start", func(t *testing.T) {
		otherLease(t, "elsewhere", "*", time.Second)
		refused(t, start(t, "team-d"), "lease elsewhere/other-manager")
	})
	t.Run("an all-namespaces manager overlaps any live scope", func(t *testing.T) {
		otherLease(t, "baton-system", "team-e", time.Second)
		refused(t, start(t), "lease baton-system/other-manager")
	})
	// controller-runtime allows one controller of a name per process, so one manager runs
	// here: beside a lapsed all-namespaces lease and a live disjoint one.
	t.Run("lapsed and disjoint leases do not refuse, and the manager's own lease records its scope", func(t *testing.T) {
		otherLease(t, "baton-system", "*", time.Minute)
		otherLease(t, "elsewhere", "team-h", time.Second)
		holds(t, start(t, "team-g", "team-f"), "team-f,team-g")
	})
	t.Run("once elected, a manager stops on an overlapping live lease but not on its own", func(t *testing.T) {
		otherLease(t, "baton-system", "team-j", time.Second)
		if err := app.RecheckOnceElected(ctx, cfg, "baton-system", "other-manager", []string{"team-j"}); err != nil {
			t.Errorf("the check of the lease's own holder = %v, want nil", err)
		}
		err := app.RecheckOnceElected(ctx, cfg, "baton-system", "late-manager", []string{"team-j", "team-k"})
		if err == nil || !strings.Contains(err.Error(), "lease baton-system/other-manager") {
			t.Errorf("the check of an overlapping manager = %v, want a refusal naming the other lease", err)
		}
	})
	t.Run("leader election outside a pod needs the lease namespace", func(t *testing.T) {
		opts := app.DefaultOptions()
		opts.LeaderElect = true
		err := app.Run(ctx, cfg, opts, steps.NewRegistry())
		if err == nil || !strings.Contains(err.Error(), "--leader-election-namespace") {
			t.Fatalf("Run = %v, want an error asking for --leader-election-namespace", err)
		}
	})
}

// result is the outcome of app.Run, readable by every waiter once done is closed.
type result struct {
	done chan struct{}
	err  error
}
