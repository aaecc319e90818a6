//go:build chart

package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/internal/operatorsim"
)

const (
	// installCommand is README.md's install command, run here exactly as written there.
	installCommand = "helm upgrade --install baton ./charts/baton -n baton-system --create-namespace --take-ownership"
	releaseNS      = "baton-system"
	kubescapeNS    = "kubescape"
	// podName is the manager's POD_NAME, so status.executer shows which commands it ran.
	podName = "baton-chart-test"
	// managerUser is the manager's ServiceAccount as the API server sees it.
	managerUser = "system:serviceaccount:baton-system:baton-manager"
)

// allOn renders every optional object of the chart.
var allOn = []string{"--set", "metrics.serviceMonitor.enabled=true", "--set", "grafana.dashboard.enabled=true",
	"--set", "applyWait.enabled=true", "--set", "metrics.service.enabled=true"}

var opcmdGVK = schema.GroupVersionKind{Group: "kubescape.io", Version: "v1alpha1", Kind: "OperatorCommand"}

// TestChart installs charts/baton the way README.md says, on a control plane where only a
// stand-in for Kubescape's chart created the OperatorCommand CRD, and runs the manager with
// the arguments it renders. The steps depend on each other and run in order.
func TestChart(t *testing.T) {
	helmBin := helmPath(t)
	home := t.TempDir()
	helm := tool{path: helmBin, env: []string{"HELM_CACHE_HOME=" + filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(home, "config"), "HELM_DATA_HOME=" + filepath.Join(home, "data")}}

	if !t.Run("helm lint", func(t *testing.T) {
		for _, set := range [][]string{nil, allOn} {
			out := helm.run(t, nil, append([]string{"lint", "--strict", "./charts/baton"}, set...)...)
			if !bytes.Contains(out, []byte("0 chart(s) failed")) {
				t.Fatalf("helm lint:\n%s", out)
			}
		}
		// values.schema.json refuses a typo and a wrong type.
		for _, bad := range []string{"replica=2", "manager.defaultTTL=5", "manager.commandEvents=none"} {
			if _, stderr, err := helm.try(nil, "template", "baton", "./charts/baton", "--set", bad); err == nil {
				t.Errorf("helm template --set %s rendered; values.schema.json should refuse it", bad)
			} else if !bytes.Contains(stderr, []byte("values don't meet the specifications of the schema")) {
				t.Errorf("helm template --set %s failed, but not for values.schema.json: %s", bad, stderr)
			}
		}
	}) {
		return
	}

	t.Run("the chart's CRDs are config/'s", func(t *testing.T) {
		for crd, base := range map[string]string{
			"templates/crds/operatorcommands.yaml": "kubescape.io_operatorcommands.yaml",
			"templates/crds/commandsequences.yaml": "kubescape.io_commandsequences.yaml",
		} {
			var rendered, config map[string]any
			if err := yaml.Unmarshal(helm.run(t, nil, "template", "baton", "./charts/baton", "--show-only", crd), &rendered); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(localcluster.Root(), "config", "crd", "bases", base))
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(data, &config); err != nil {
				t.Fatal(err)
			}
			if !equalJSON(rendered["spec"], config["spec"]) {
				t.Errorf("%s's spec differs from config/crd/bases/%s: run make chart", crd, base)
			}
		}
	})

	manager, err := localcluster.BuildManager(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	if !t.Run("every manager value renders a flag the manager accepts", func(t *testing.T) {
		sets := map[string]string{
			"namespaces": "{team-a,team-b}", "manager.defaultTTL": "90m", "manager.assemblyTimeout": "5m",
			"manager.maxPayloadBytes": "1000000", "manager.reportMaxBytes": "300000",
			"manager.finishedRetention": "24h", "manager.maxConcurrentSteps": "8",
			"manager.maxConcurrentReconciles": "4", "manager.httpAllow": "{api.example.com,*.svc}",
			"manager.externalMaxAge": "20m", "manager.commandEvents": "all", "manager.kubeAPIQPS": "50.5",
			"manager.kubeAPIBurst": "100", "manager.logLevel": "debug",
			"manager.extraArgs": "{--pprof-bind-address=0}", "leaderElection.enabled": "false",
		}
		args := []string{"template", "baton", "./charts/baton", "-n", releaseNS, "--show-only", "templates/manager/deployment.yaml"}
		for k, v := range sets {
			args = append(args, "--set", k+"="+v)
		}
		var d appsv1.Deployment
		if err := yaml.Unmarshal(helm.run(t, nil, args...), &d); err != nil {
			t.Fatal(err)
		}
		got := d.Spec.Template.Spec.Containers[0].Args
		want := []string{"--metrics-bind-address=:8080", "--health-probe-bind-address=:8081",
			"--namespace=team-a", "--namespace=team-b", "--default-ttl=90m", "--assembly-timeout=5m",
			"--max-payload-bytes=1000000", "--report-max-bytes=300000", "--finished-retention=24h",
			"--max-concurrent-steps=8", "--max-concurrent-reconciles=4", "--http-allow=api.example.com",
			"--http-allow=*.svc", "--external-max-age=20m", "--command-events=all", "--kube-api-qps=50.5",
			"--kube-api-burst=100", "--zap-log-level=debug", "--pprof-bind-address=0"}
		if !slices.Equal(got, want) {
			t.Errorf("rendered args:\n got %q\nwant %q", got, want)
		}
		// The manager parses them all: with --help last it exits 0 only when every flag
		// before it parsed.
		if out, err := exec.Command(manager, append(slices.Clone(got), "--help")...).CombinedOutput(); err != nil {
			t.Errorf("bin/manager %s --help: %v\n%s", strings.Join(got, " "), err, out)
		}
	}) {
		return
	}

	// A control plane without baton's CRDs: the chart installs them.
	assets, err := localcluster.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	scheme := localcluster.Scheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets, Scheme: scheme}
	cfg, err := localcluster.StartGuarded(env)
	if err != nil {
		t.Fatalf("starting kube-apiserver and etcd: %v", err)
	}
	stopEnv := func() { _ = env.Stop() }
	t.Cleanup(stopEnv)
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	admin, err := localcluster.WriteKubeconfig(env, dir)
	if err != nil {
		t.Fatal(err)
	}
	helm.env = append(helm.env, "KUBECONFIG="+admin)
	kubectl := tool{path: localcluster.Kubectl(env), env: []string{"KUBECONFIG=" + admin}, strict: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	if !t.Run("every rendered object passes a server-side dry run", func(t *testing.T) {
		// The ServiceMonitor is validated against prometheus-operator's own CRD.
		kubectl.run(t, nil, "apply", "--server-side", "-f", serviceMonitorCRD(t))
		waitEstablished(t, ctx, c, "servicemonitors.monitoring.coreos.com")
		// A dry run creates no namespace. The release's namespace asks for warnings of the
		// restricted Pod Security Standard, which fail the dry run.
		for _, ns := range []*corev1.Namespace{
			{ObjectMeta: metav1.ObjectMeta{Name: releaseNS, Labels: map[string]string{"pod-security.kubernetes.io/warn": "restricted"}}},
		} {
			if err := c.Create(ctx, ns); err != nil {
				t.Fatal(err)
			}
		}
		rendered := helm.run(t, nil, append([]string{"template", "baton", "./charts/baton", "-n", releaseNS}, allOn...)...)
		kinds := kindsOf(rendered)
		for _, want := range []string{"CustomResourceDefinition", "ClusterRole", "Role", "ServiceAccount", "Deployment",
			"ServiceMonitor", "Service", "ConfigMap", "RoleBinding", "ClusterRoleBinding"} {
			if !slices.Contains(kinds, want) {
				t.Errorf("the chart with every option on renders no %s (it renders %v)", want, kinds)
			}
		}
		out := kubectl.run(t, rendered, "apply", "--dry-run=server", "--server-side", "--validate=strict", "-f", "-")
		if got := strings.Count(string(out), "(server dry run)"); got != len(kinds) {
			t.Errorf("%d objects validated, want %d:\n%s", got, len(kinds), out)
		}
		if !bytes.Contains(rendered, []byte(`grafana_dashboard: "1"`)) {
			t.Error(`the dashboard ConfigMap is not labelled grafana_dashboard: "1"`)
		}
		// The ServiceMonitor's CRD does validate: a wrong endpoint is refused.
		bad := bytes.Replace(serviceMonitorOf(t, rendered), []byte("port: metrics"), []byte("port: 8080"), 1)
		if _, stderr, err := kubectl.try(bad, "apply", "--dry-run=server", "--server-side", "--validate=strict", "-f", "-"); err == nil {
			t.Errorf("a ServiceMonitor with an integer port passed the dry run; is its CRD installed?")
		} else {
			t.Logf("a wrong ServiceMonitor is refused, as it should be: %s", bytes.TrimSpace(stderr))
		}
	}) {
		return
	}

	var standin *unstructured.Unstructured
	if !t.Run("the README's command installs over the CRD of Kubescape's chart", func(t *testing.T) {
		readme, err := os.ReadFile(filepath.Join(localcluster.Root(), "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readme, []byte(installCommand)) {
			t.Fatalf("README.md does not give the install command this test runs: %s", installCommand)
		}
		helm.run(t, nil, "install", "kubescape", "./test/testdata/kubescape-operator", "-n", kubescapeNS, "--create-namespace")
		waitEstablished(t, ctx, c, "operatorcommands.kubescape.io")
		standin = createStandinCommand(t, ctx, c)

		// Without --take-ownership Helm refuses the CRD another release's crds/ created.
		_, stderr, err := helm.try(nil, "install", "baton-without-takeover", "./charts/baton", "-n", releaseNS)
		if err == nil || !bytes.Contains(stderr, []byte("invalid ownership metadata")) {
			t.Errorf("helm install without --take-ownership: %v, want it refused for invalid ownership metadata:\n%s", err, stderr)
		}
		helm.run(t, nil, "uninstall", "baton-without-takeover", "-n", releaseNS, "--ignore-not-found")
		assertUnchanged(t, ctx, c, standin)

		args := strings.Fields(installCommand)[1:]
		out := helm.run(t, nil, args...)
		t.Logf("%s:\n%s", installCommand, out)
		if !bytes.Contains(out, []byte("is installed in namespace baton-system, watching every namespace")) {
			t.Errorf("the install printed no NOTES saying what it installed")
		}

		var crd apiextensionsv1.CustomResourceDefinition
		if err := c.Get(ctx, client.ObjectKey{Name: "operatorcommands.kubescape.io"}, &crd); err != nil {
			t.Fatal(err)
		}
		if got := crd.Annotations["meta.helm.sh/release-name"]; got != "baton" {
			t.Errorf("the CRD's release is %q, want baton", got)
		}
		if got := crd.Annotations["helm.sh/resource-policy"]; got != "keep" {
			t.Errorf("the CRD's helm.sh/resource-policy is %q, want keep", got)
		}
		waitEstablished(t, ctx, c, "operatorcommands.kubescape.io", "commandsequences.kubescape.io")
		header := strings.SplitN(string(kubectl.run(t, nil, "get", "opcmd", "-n", kubescapeNS)), "\n", 2)[0]
		if got := strings.Fields(header); !slices.Equal(got, []string{"NAME", "TYPE", "SEQUENCE", "INDEX", "COUNT", "PHASE", "AGE"}) {
			t.Errorf("kubectl get opcmd columns: %v", got)
		}
		// baton's status fields persist: the API server no longer prunes them.
		probe := &batonv1.OperatorCommand{ObjectMeta: metav1.ObjectMeta{Name: "schema-probe", Namespace: kubescapeNS},
			Spec: batonv1.OperatorCommandSpec{GUID: "schema-probe", CommandType: "probe"}}
		if err := c.Create(ctx, probe); err != nil {
			t.Fatal(err)
		}
		// The API server serves a changed schema shortly after the CRD is updated: poll.
		patch := []byte(`{"status":{"phase":"Failed","message":"written by the chart test","attempts":2}}`)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if err := c.Status().Patch(ctx, probe, client.RawPatch(types.MergePatchType, patch)); err != nil {
				t.Fatal(err)
			}
			if probe.Status.Phase == batonv1.CommandFailed && probe.Status.Attempts == 2 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("status.phase never persisted under the chart's CRD: %+v", probe.Status)
			case <-tick.C:
			}
		}
		if err := c.Delete(ctx, probe); err != nil {
			t.Fatal(err)
		}
		assertUnchanged(t, ctx, c, standin)
	}) {
		return
	}

	if !t.Run("helm upgrade with a changed value changes the Deployment", func(t *testing.T) {
		before := deployment(t, ctx, c)
		if slices.Contains(before.Spec.Template.Spec.Containers[0].Args, "--default-ttl=2h") {
			t.Fatalf("the Deployment already has --default-ttl=2h: %v", before.Spec.Template.Spec.Containers[0].Args)
		}
		helm.run(t, nil, "upgrade", "baton", "./charts/baton", "-n", releaseNS, "--reuse-values",
			"--set", "manager.defaultTTL=2h", "--set", "replicas=2", "--set", "metrics.serviceMonitor.enabled=true")
		after := deployment(t, ctx, c)
		if !slices.Contains(after.Spec.Template.Spec.Containers[0].Args, "--default-ttl=2h") {
			t.Errorf("after the upgrade the manager's args are %v, want --default-ttl=2h among them", after.Spec.Template.Spec.Containers[0].Args)
		}
		if after.Spec.Replicas == nil || *after.Spec.Replicas != 2 {
			t.Errorf("after the upgrade replicas = %v, want 2", after.Spec.Replicas)
		}
		if after.Generation == before.Generation {
			t.Errorf("the upgrade left the Deployment at generation %d", after.Generation)
		}
		kubectl.run(t, nil, "get", "servicemonitor.monitoring.coreos.com/baton-manager", "-n", releaseNS)
	}) {
		return
	}

	if !t.Run("the manager run with the Deployment's arguments completes a sequence with an external step", func(t *testing.T) {
		runManager(t, ctx, env, c, deployment(t, ctx, c), manager, dir, stopEnv)
	}) {
		return
	}

	t.Run("helm uninstall keeps the CRDs and the commands", func(t *testing.T) {
		helm.run(t, nil, "uninstall", "baton", "-n", releaseNS)
		var d appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: "baton-manager"}, &d); err == nil || client.IgnoreNotFound(err) != nil {
			t.Errorf("the Deployment is still there after helm uninstall (%v)", err)
		}
		for _, name := range []string{"operatorcommands.kubescape.io", "commandsequences.kubescape.io"} {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := c.Get(ctx, client.ObjectKey{Name: name}, &crd); err != nil {
				t.Errorf("CRD %s after helm uninstall: %v", name, err)
			}
		}
		assertSameCommand(t, ctx, c, standin)
		var cmds batonv1.OperatorCommandList
		if err := c.List(ctx, &cmds, client.InNamespace("default")); err != nil {
			t.Fatal(err)
		}
		if len(cmds.Items) != 3 {
			t.Errorf("%d commands of the external sequence left after helm uninstall, want 3", len(cmds.Items))
		}
		var seqs batonv1.CommandSequenceList
		if err := c.List(ctx, &seqs, client.InNamespace("default")); err != nil {
			t.Fatal(err)
		}
		if len(seqs.Items) != 1 || seqs.Items[0].Status.Report == nil {
			t.Errorf("the sequence and its report after helm uninstall: %d sequences", len(seqs.Items))
		}
	})
}

// createStandinCommand creates, under the stand-in chart's CRD, a command such as the
// Kubescape backend sends, and returns it as stored.
func createStandinCommand(t *testing.T, ctx context.Context, c client.Client) *unstructured.Unstructured {
	t.Helper()
	cmd := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "kubescape-scan", "namespace": kubescapeNS,
			"labels": map[string]any{batonv1.LabelAppName: operatorsim.AppName}},
		"spec": map[string]any{
			"guid":           "0b3e0c3c-5d3e-4c1a-9c43-2f1e7a1b9d10",
			"commandType":    "OperatorAPI",
			"commandVersion": "v1",
			"designators":    []any{map[string]any{"designatorType": "Attributes", "attributes": map[string]any{"cluster": "minikube"}}},
			"body":           "eyJjb21tYW5kTmFtZSI6InNjYW4ifQ==",
		},
	}}
	cmd.SetGroupVersionKind(opcmdGVK)
	if err := c.Create(ctx, cmd); err != nil {
		t.Fatalf("creating a command under the stand-in chart's CRD: %v", err)
	}
	return cmd
}

// assertUnchanged fails unless the command is still there, the same object, never written
// since (same resourceVersion), with the same spec, labels and annotations.
func assertUnchanged(t *testing.T, ctx context.Context, c client.Client, want *unstructured.Unstructured) {
	t.Helper()
	got := assertSameCommand(t, ctx, c, want)
	if got.GetResourceVersion() != want.GetResourceVersion() {
		t.Errorf("command %s was written: resourceVersion %s, was %s", want.GetName(), got.GetResourceVersion(), want.GetResourceVersion())
	}
	// (Its status may read differently: baton's schema defaults status.phase on read.)
	if !equalJSON(got.GetLabels(), want.GetLabels()) || !equalJSON(got.GetAnnotations(), want.GetAnnotations()) {
		t.Errorf("command %s changed:\n got %v\nwant %v", want.GetName(), got.Object, want.Object)
	}
}

// assertSameCommand fails unless the command is still there, the same object with the same
// spec, and returns it.
func assertSameCommand(t *testing.T, ctx context.Context, c client.Client, want *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(opcmdGVK)
	if err := c.Get(ctx, client.ObjectKeyFromObject(want), got); err != nil {
		t.Fatalf("command %s: %v", want.GetName(), err)
	}
	if got.GetUID() != want.GetUID() {
		t.Errorf("command %s was replaced: uid %s, was %s", want.GetName(), got.GetUID(), want.GetUID())
	}
	if !equalJSON(got.Object["spec"], want.Object["spec"]) {
		t.Errorf("command %s spec changed:\n got %v\nwant %v", want.GetName(), got.Object["spec"], want.Object["spec"])
	}
	return got
}

func equalJSON(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}

// deployment is the manager's Deployment as installed.
func deployment(t *testing.T, ctx context.Context, c client.Client) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	if err := c.Get(ctx, client.ObjectKey{Namespace: releaseNS, Name: "baton-manager"}, &d); err != nil {
		t.Fatalf("the chart's Deployment: %v", err)
	}
	if len(d.Spec.Template.Spec.Containers) != 1 || d.Spec.Template.Spec.Containers[0].Name != "manager" {
		t.Fatalf("the chart's Deployment has containers %v, want one named manager", d.Spec.Template.Spec.Containers)
	}
	return &d
}

// kindsOf lists the kind of every document in a rendered manifest.
func kindsOf(manifest []byte) []string {
	var kinds []string
	for _, line := range strings.Split(string(manifest), "\n") {
		if kind, ok := strings.CutPrefix(line, "kind: "); ok {
			kinds = append(kinds, strings.TrimSpace(kind))
		}
	}
	return kinds
}

// serviceMonitorOf is the ServiceMonitor document of a rendered manifest.
func serviceMonitorOf(t *testing.T, manifest []byte) []byte {
	t.Helper()
	for _, doc := range strings.Split(string(manifest), "\n---") {
		if strings.Contains(doc, "\nkind: ServiceMonitor\n") {
			return []byte(doc)
		}
	}
	t.Fatal("no ServiceMonitor rendered")
	return nil
}

// runManager builds bin/manager, runs it as the chart's ServiceAccount with the arguments
// of the chart's Deployment, and has it complete examples/external.yaml with a simulated
// Kubescape operator as the external executor; then stops it as a kubelet would.
func runManager(t *testing.T, ctx context.Context, env *envtest.Environment, c client.WithWatch, d *appsv1.Deployment, manager, dir string, stopEnv func()) {
	container := d.Spec.Template.Spec.Containers[0]
	user, err := env.AddUser(envtest.User{Name: managerUser,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + releaseNS, "system:authenticated"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kubeconfigPath := filepath.Join(dir, "manager-kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
	metrics, err := localcluster.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	probes, err := localcluster.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	// Outside a pod: the kubeconfig and the lease's namespace are what a pod gets from its
	// ServiceAccount; the listeners move to free ports (later flags win).
	args := append(slices.Clone(container.Args), "--kubeconfig="+kubeconfigPath, "--leader-election-namespace="+releaseNS,
		"--metrics-bind-address="+metrics, "--health-probe-bind-address="+probes)
	t.Logf("bin/manager %s", strings.Join(args, " "))
	cmd := exec.Command(manager, args...)
	cmd.Env = append(os.Environ(), "POD_NAME="+podName)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("the manager did not stop within 30s of SIGTERM")
		}
	}
	t.Cleanup(func() {
		_ = stop()
		if t.Failed() {
			t.Logf("manager logs:\n%s", logs.String())
		}
	})
	t.Cleanup(localcluster.OnSignal(func() { _ = cmd.Process.Kill() }, stopEnv))

	for _, probe := range []*corev1.Probe{container.LivenessProbe, container.ReadinessProbe} {
		if err := localcluster.WaitOK(fmt.Sprintf("http://%s%s", probes, probe.HTTPGet.Path), 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	opCtx, stopOperator := context.WithCancel(ctx)
	operatorDone := make(chan struct{})
	// examples/external.yaml runs a StartCVEScan: the operator with its vulnerability component.
	op := &operatorsim.Operator{Client: c, Namespace: "default", Vulnerability: true, Log: testr.New(t)}
	go func() { defer close(operatorDone); _ = op.Run(opCtx) }()
	defer func() { stopOperator(); <-operatorDone }()

	cluster := &localcluster.Cluster{Env: env, Client: c}
	keys, err := cluster.Apply(ctx, "default", filepath.Join(localcluster.Root(), "examples", "external.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	seq, err := cluster.WaitFinished(waitCtx, "default", keys[0])
	if err != nil {
		t.Fatal(err)
	}
	if seq.Status.Phase != batonv1.SequenceSucceeded {
		t.Fatalf("sequence %s ended %s, want %s: %+v", keys[0], seq.Status.Phase, batonv1.SequenceSucceeded, seq.Status)
	}
	var cmds batonv1.OperatorCommandList
	if err := c.List(ctx, &cmds, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds.Items {
		want := podName
		if _, held := cmd.Annotations[batonv1.AnnotationGateLabels]; held {
			want = operatorsim.AppName
		}
		if cmd.Status.Executer != want {
			t.Errorf("command %s: status.executer = %q, want %q", cmd.Name, cmd.Status.Executer, want)
		}
	}
	// A kubelet stops a pod with SIGTERM: the manager exits 0.
	if err := stop(); err != nil {
		t.Errorf("the manager's exit after SIGTERM: %v", err)
	}
}

// waitEstablished waits until the API server serves each CRD. (kubectl wait fails at once on
// a CRD that has no conditions yet.)
func waitEstablished(t *testing.T, ctx context.Context, c client.Client, names ...string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for _, name := range names {
		for {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := c.Get(ctx, client.ObjectKey{Name: name}, &crd); err != nil {
				t.Fatalf("CRD %s: %v", name, err)
			}
			if slices.ContainsFunc(crd.Status.Conditions, func(c apiextensionsv1.CustomResourceDefinitionCondition) bool {
				return c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue
			}) {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("CRD %s never established: %v", name, ctx.Err())
			case <-tick.C:
			}
		}
	}
}
