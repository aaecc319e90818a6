//go:build image

package deploy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/internal/localcluster"
)

// podName is POD_NAME in the container, so status.executer shows the container claimed.
const podName = "baton-image-test"

// TestImage runs the manager image (make image) the way config/default deploys it — its
// arguments, its ServiceAccount's RBAC and no more, non-root, read-only root filesystem,
// no capabilities, no privilege escalation, the pod's namespace file for leader election
// — against a local control plane, and completes a sequence with it. It fails, never
// skips, when podman or the image is missing: make test-image installs and builds both.
func TestImage(t *testing.T) {
	image := os.Getenv("IMAGE")
	if image == "" {
		image = "localhost/baton:latest"
	}
	podman := newPodman(t)
	if out, err := podman.run("image", "exists", image); err != nil {
		t.Fatalf("image %s not found (%v %s): run make test-image, which builds it", image, err, out)
	}

	env, _, c, err := localcluster.StartEnv()
	if err != nil {
		t.Fatal(err)
	}
	stopEnv := func() { _ = env.Stop() }
	t.Cleanup(stopEnv)
	dir := t.TempDir()
	admin, err := localcluster.WriteKubeconfig(env, dir)
	if err != nil {
		t.Fatal(err)
	}
	manifests := render(t, env, "config/default")
	kubectl(t, env, admin, manifests, "apply", "--server-side", "--force-conflicts", "-f", "-")
	container := deploymentContainer(t, manifests)

	// The manager's identity: its ServiceAccount, with the generated RBAC only.
	user, err := env.AddUser(envtest.User{Name: managerUser, Groups: managerGroups}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig := writeFile(t, dir, "manager-kubeconfig", func() []byte {
		data, err := user.KubeConfig()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}())
	namespaceFile := writeFile(t, dir, "namespace", []byte("baton-system"))

	metrics, err := localcluster.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	probes, err := localcluster.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("baton-image-test-%d", os.Getpid())
	args := []string{"run", "--detach", "--name", name, "--runtime", "runc", "--network", "host",
		// A container left behind by a killed test stops by itself.
		"--timeout", "600",
		"--env", "POD_NAME=" + podName,
		"--volume", kubeconfig + ":/etc/baton/kubeconfig:ro",
		"--volume", namespaceFile + ":/var/run/secrets/kubernetes.io/serviceaccount/namespace:ro"}
	args = append(args, hardening(t, container)...)
	args = append(args, image)
	args = append(args, container.Args...)
	// On the host network the Deployment's ports could be taken: later flags win.
	args = append(args, "--kubeconfig=/etc/baton/kubeconfig",
		"--metrics-bind-address="+metrics, "--health-probe-bind-address="+probes)

	removeContainer := func() { _, _ = podman.run("rm", "--force", "--time", "5", name) }
	t.Cleanup(removeContainer)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := podman.run("logs", name)
			t.Logf("manager container logs:\n%s", out)
		}
	})
	t.Cleanup(localcluster.OnSignal(removeContainer, stopEnv))
	started := time.Now()
	if out, err := podman.run(args...); err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}

	for _, probe := range []*corev1.Probe{container.LivenessProbe, container.ReadinessProbe} {
		if err := localcluster.WaitOK(fmt.Sprintf("http://%s%s", probes, probe.HTTPGet.Path), 60*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("manager ready %s after podman run", time.Since(started).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster := &localcluster.Cluster{Env: env, Client: c}
	keys, err := cluster.Apply(ctx, "default", filepath.Join(localcluster.Root(), "examples", "linear.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	seq, err := cluster.WaitFinished(ctx, "default", keys[0])
	if err != nil {
		t.Fatal(err)
	}
	if seq.Status.Phase != batonv1.SequenceSucceeded {
		t.Fatalf("sequence %s ended %s, want %s: %+v", keys[0], seq.Status.Phase, batonv1.SequenceSucceeded, seq.Status)
	}
	t.Logf("sequence %s succeeded %s after podman run", keys[0], time.Since(started).Round(time.Millisecond))
	var cmds batonv1.OperatorCommandList
	if err := c.List(ctx, &cmds, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds.Items {
		if cmd.Status.Executer != podName {
			t.Errorf("command %s: status.executer = %q, want %q (POD_NAME)", cmd.Name, cmd.Status.Executer, podName)
		}
	}
	var lease coordinationv1.Lease
	if err := c.Get(ctx, client.ObjectKey{Namespace: "baton-system", Name: "baton.kubescape.io"}, &lease); err != nil {
		t.Fatalf("the manager's lease in its pod namespace: %v", err)
	}
	if got := lease.Annotations[batonv1.AnnotationScope]; got != batonv1.ScopeAllNamespaces {
		t.Errorf("lease scope annotation = %q, want %q", got, batonv1.ScopeAllNamespaces)
	}

	// A kubelet stops a pod with SIGTERM: the manager must exit 0 within the grace period.
	if out, err := podman.run("stop", "--time", "30", name); err != nil {
		t.Fatalf("podman stop: %v\n%s", err, out)
	}
	if out, err := podman.run("inspect", "--format", "{{.State.ExitCode}}", name); err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Errorf("manager exit code after SIGTERM = %s (%v), want 0", bytes.TrimSpace(out), err)
	}
}

// deploymentContainer is the manager container of the Deployment in manifests.
func deploymentContainer(t *testing.T, manifests []byte) corev1.Container {
	t.Helper()
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		var d appsv1.Deployment
		if err := decoder.Decode(&d); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if d.Kind != "Deployment" {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name == "manager" {
				return c
			}
		}
	}
	t.Fatal("config/default renders no Deployment with a container named manager")
	return corev1.Container{}
}

// hardening turns the container's securityContext into podman flags, and fails when the
// Deployment lost any of the hardening the image is tested with.
func hardening(t *testing.T, c corev1.Container) []string {
	t.Helper()
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("the manager container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Fatal("the manager container must have readOnlyRootFilesystem: true")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Fatal("the manager container must have allowPrivilegeEscalation: false")
	case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0:
		t.Fatal("the manager container must drop ALL capabilities and add none")
	}
	// The image's USER 65532:65532 runs it; runAsNonRoot holds when the image says so.
	return []string{"--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges", "--user", "65532:65532"}
}

// podman runs podman with a containers.conf that works on this kind of machine.
type podmanCmd struct{ env []string }

func newPodman(t *testing.T) podmanCmd {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman not found: make test-image installs podman and runc (apt-get) and builds the image")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Fatal("runc not found: make test-image installs podman and runc (apt-get)")
	}
	conf := os.Getenv("CONTAINERS_CONF")
	if conf == "" {
		conf = writeFile(t, t.TempDir(), "containers.conf", []byte("[containers]\ndefault_ulimits = []\n"))
	}
	return podmanCmd{env: append(os.Environ(), "CONTAINERS_CONF="+conf)}
}

func (p podmanCmd) run(args ...string) ([]byte, error) {
	cmd := exec.Command("podman", args...)
	cmd.Env = p.env
	return cmd.CombinedOutput()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	// Readable by the container's user 65532; dir itself stays private to this user.
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
