package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/internal/localcluster"
)

// TestScopeWithoutLeaderElection runs managers with --leader-elect=false as processes
// (two bin/manager started by hand): the first holds its scope lease itself and renews it;
// a second of the same scope and a third of an overlapping one refuse to start; once the
// first stops it releases the lease, and the next one starts at once; the lease of one
// killed with SIGKILL is waited out (it is not renewed), then taken.
func TestScopeWithoutLeaderElection(t *testing.T) {
	e := startBinaryEnv(t)
	ctx := context.Background()
	// Outside a pod and without --leader-election-namespace, the lease is in default.
	key := client.ObjectKey{Namespace: "default", Name: "baton.kubescape.io"}
	lease := func() *coordinationv1.Lease {
		t.Helper()
		var l coordinationv1.Lease
		if err := e.client.Get(ctx, key, &l); err != nil {
			t.Fatal(err)
		}
		return &l
	}
	// healthy starts a manager without leader election and waits for its probes.
	healthy := func(args ...string) *process {
		t.Helper()
		probes, err := localcluster.FreeAddress()
		if err != nil {
			t.Fatal(err)
		}
		p := startManager(t, e.kubeconfig, append([]string{"--leader-elect=false", "--health-probe-bind-address", probes}, args...)...)
		if err := localcluster.WaitOK(fmt.Sprintf("http://%s/readyz", probes), 60*time.Second); err != nil {
			t.Fatalf("%v; stderr:\n%s", err, p.output())
		}
		return p
	}

	first := healthy()
	var killed *process
	l := lease()
	holder := ptr.Deref(l.Spec.HolderIdentity, "")
	if holder == "" || l.Labels[batonv1.LabelScopeLease] != batonv1.ScopeLeaseValue || l.Annotations[batonv1.AnnotationScope] != batonv1.ScopeAllNamespaces {
		t.Fatalf("lease %s: holder %q, labels %v, annotations %v; want a holder, the scope-lease label and scope %q",
			key, holder, l.Labels, l.Annotations, batonv1.ScopeAllNamespaces)
	}

	t.Run("the lease is renewed while the manager runs", func(t *testing.T) {
		acquired := l.Spec.RenewTime.Time
		deadline := time.Now().Add(30 * time.Second)
		for l := lease(); !l.Spec.RenewTime.After(acquired); l = lease() {
			if ptr.Deref(l.Spec.HolderIdentity, "") != holder {
				t.Fatalf("lease holder %q, want %q", ptr.Deref(l.Spec.HolderIdentity, ""), holder)
			}
			if time.Now().After(deadline) {
				t.Fatalf("lease not renewed 30s after %s", acquired)
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
	t.Run("a second manager of the same scope refuses to start once it sees the lease renewed", func(t *testing.T) {
		startManager(t, e.kubeconfig, "--leader-elect=false").refused(t,
			"lease default/baton.kubescape.io of this manager's namespace scope", "is held by "+holder)
	})
	t.Run("a manager of an overlapping scope refuses to start", func(t *testing.T) {
		startManager(t, e.kubeconfig, "--leader-elect=false", "--namespace", "team-a").refused(t,
			"lease default/baton.kubescape.io (scope", "held by "+holder)
	})
	t.Run("once the first stops, its lease is released and the next starts", func(t *testing.T) {
		if err := first.stop(); err != nil {
			t.Fatal(err)
		}
		if code := first.exitCode(t); code != 0 {
			t.Fatalf("manager exited with %d after SIGTERM, want 0; stderr:\n%s", code, first.output())
		}
		if h := ptr.Deref(lease().Spec.HolderIdentity, ""); h != "" {
			t.Fatalf("lease still held by %q after its manager stopped, want released", h)
		}
		next := healthy()
		if h := ptr.Deref(lease().Spec.HolderIdentity, ""); h == "" || h == holder {
			t.Fatalf("lease held by %q, want the new manager (not %q)", h, holder)
		}
		holder = ptr.Deref(lease().Spec.HolderIdentity, "")
		killed = next
	})
	t.Run("a lease left by a killed manager is waited out, then taken", func(t *testing.T) {
		if killed == nil {
			t.Fatal("the previous spec left no running manager to kill")
		}
		killed.kill()
		healthy()
		if h := ptr.Deref(lease().Spec.HolderIdentity, ""); h == "" || h == holder {
			t.Errorf("lease held by %q, want the new manager (not the killed %q)", h, holder)
		}
	})
}
