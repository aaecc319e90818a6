package deploy

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/batonhq/baton/internal/localcluster"
)

// kubectl runs the kubectl built beside the control plane with stdin and returns stdout;
// it fails the test on an error or on a warning from the API server (a PodSecurity
// violation, a deprecated API, an unknown field).
func kubectl(t *testing.T, env *envtest.Environment, kubeconfig string, stdin []byte, args ...string) []byte {
	t.Helper()
	if kubeconfig != "" {
		args = append([]string{"--kubeconfig", kubeconfig}, args...)
	}
	cmd := exec.Command(localcluster.Kubectl(env), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	if bytes.Contains(stderr.Bytes(), []byte("Warning:")) {
		t.Fatalf("kubectl %s warned:\n%s", strings.Join(args, " "), stderr.Bytes())
	}
	return out
}

// render is `kubectl kustomize` of a directory under config/ (or the repository).
func render(t *testing.T, env *envtest.Environment, dir string) []byte {
	t.Helper()
	return kubectl(t, env, "", nil, "kustomize", filepath.Join(localcluster.Root(), dir))
}
