package app_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/manager/app"
	"github.com/batonhq/baton/internal/localcluster"
)

const (
	chartCommandCRD  = "test/testdata/kubescape-operator/crds/operator-command.crd.yaml"
	batonSequenceCRD = "config/crd/bases/kubescape.io_commandsequences.yaml"
)

// member builds a noop member of a sequence of count, keyed by guid, with no TTL and
// top-level args (what Kubescape's chart CRD keeps).
func member(namespace, name, guid string, index, count int) *batonv1.OperatorCommand {
	return &batonv1.OperatorCommand{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: batonv1.OperatorCommandSpec{
			GUID: guid, CommandType: "noop",
			Args:         batonv1.Args{"target": name, "step": int64(index)},
			CommandIndex: ptr.To(index), CommandCount: ptr.To(count),
		},
	}
}

// TestInstallBesideKubescape runs the manager where Kubescape's chart created
// operatorcommands.kubescape.io: it refuses to start and writes nothing; once baton's CRDs
// replace the chart's in place (the fix the refusal names), the commands created under the
// chart's CRD are unchanged and run to Succeeded.
func TestInstallBesideKubescape(t *testing.T) {
	e := startBinaryEnv(t, chartCommandCRD, batonSequenceCRD)
	ctx := context.Background()
	const ns = "team-a"
	if err := e.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	created := map[string]*batonv1.OperatorCommand{}
	for i, name := range []string{"scan", "report"} {
		cmd := member(ns, name, "install-beside-kubescape", i, 2)
		if err := e.client.Create(ctx, cmd); err != nil {
			t.Fatalf("creating %s under the chart's CRD: %v", name, err)
		}
		created[name] = cmd
	}

	t.Run("the served schema is read with no rights beyond an authenticated user's", func(t *testing.T) {
		user, err := e.env.AddUser(envtest.User{Name: "nobody"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		problems, err := app.ServedSchemaProblems(user.Config())
		if err != nil || len(problems) != 1 || !strings.Contains(problems[0], "status.phase") {
			t.Fatalf("ServedSchemaProblems as a user without roles = %q, %v; want the chart CRD's lacks", problems, err)
		}
	})
	t.Run("the manager refuses the chart's schema and writes nothing", func(t *testing.T) {
		startManager(t, e.kubeconfig).refused(t,
			"operatorcommands.kubescape.io lacks", "status.phase", "spec.ttl accepting an integer",
			"helm upgrade --install baton ./charts/baton -n baton-system --create-namespace --take-ownership",
			"kubectl apply --server-side --force-conflicts -k config/crd")
		for name, want := range created {
			var got batonv1.OperatorCommand
			if err := e.client.Get(ctx, client.ObjectKeyFromObject(want), &got); err != nil {
				t.Fatal(err)
			}
			if got.ResourceVersion != want.ResourceVersion {
				t.Errorf("command %s: resourceVersion %s, want %s unchanged: the refused manager wrote it", name, got.ResourceVersion, want.ResourceVersion)
			}
		}
		var leases coordinationv1.LeaseList
		if err := e.client.List(ctx, &leases, client.MatchingLabels{batonv1.LabelScopeLease: batonv1.ScopeLeaseValue}); err != nil {
			t.Fatal(err)
		}
		if len(leases.Items) != 0 {
			t.Errorf("the refused manager wrote %d scope leases, want none", len(leases.Items))
		}
	})
	if t.Failed() {
		return
	}

	t.Run("baton's CRDs replace the chart's in place and the commands run", func(t *testing.T) {
		// The kustomize fix, as the refusal gives it: server-side apply, taking the
		// fields the chart's CRD owned.
		apply := exec.Command(localcluster.Kubectl(e.env), "--kubeconfig", e.kubeconfig,
			"apply", "--server-side", "--force-conflicts", "-k", filepath.Join(localcluster.Root(), "config", "crd"))
		if out, err := apply.CombinedOutput(); err != nil {
			t.Fatalf("kubectl apply: %v\n%s", err, out)
		}
		waitSchema(t, e)
		for name, want := range created {
			var got batonv1.OperatorCommand
			if err := e.client.Get(ctx, client.ObjectKeyFromObject(want), &got); err != nil {
				t.Fatalf("command %s after the CRD was replaced: %v", name, err)
			}
			if diff := cmp.Diff(want.Spec, got.Spec); diff != "" {
				t.Errorf("command %s: spec changed by the CRD replacement (-before +after):\n%s", name, diff)
			}
		}

		startManager(t, e.kubeconfig)
		seq := waitSequenceFinished(t, e.client, ns, "install-beside-kubescape")
		if seq.Status.Phase != batonv1.SequenceSucceeded || len(seq.Status.Report.Members) != 2 {
			t.Fatalf("sequence %s/%s, %d report lines; want Succeeded with 2: %+v", seq.Status.Phase, seq.Status.Reason, len(seq.Status.Report.Members), seq.Status)
		}
		for name, want := range created {
			var got batonv1.OperatorCommand
			if err := e.client.Get(ctx, client.ObjectKeyFromObject(want), &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.Spec, got.Spec); diff != "" {
				t.Errorf("command %s: spec changed by the run (-before +after):\n%s", name, diff)
			}
			s := got.Status
			if s.Phase != batonv1.CommandSucceeded || !s.Started || !s.Completed || s.StartedAt == nil || s.CompletedAt == nil || s.Executer == "" || s.Attempts < 1 {
				t.Errorf("command %s: status %+v, want Succeeded, started and completed with their times, an executer and its attempts", name, s)
			}
		}
	})
}

// waitSchema waits until the API server publishes baton's schemas for both kinds.
func waitSchema(t *testing.T, e *binaryEnv) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		problems, err := app.ServedSchemaProblems(e.cfg)
		if err == nil && len(problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the served schema still falls short 30s after the CRDs were applied: %v %v", problems, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSequenceFinished waits until the CommandSequence of key is terminal with its report.
func waitSequenceFinished(t *testing.T, c client.Client, namespace, key string) *batonv1.CommandSequence {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last []string
	for {
		var list batonv1.CommandSequenceList
		if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
			t.Fatalf("waiting for sequence %s: %v (last seen: %s)", key, err, strings.Join(last, "; "))
		}
		last = last[:0]
		for i := range list.Items {
			seq := &list.Items[i]
			last = append(last, fmt.Sprintf("%s %s %s", seq.Spec.Key, seq.Status.Phase, seq.Status.Progress))
			if seq.Spec.Key == key && seq.Status.Phase.Terminal() && seq.Status.Report != nil {
				return seq
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("sequence %s not finished after 60s (seen: %s)", key, strings.Join(last, "; "))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
