package deploy

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/batonhq/baton/internal/localcluster"
)

// kubectl runs the kubectl built beside the control plane with stdin and returns stdout.
func kubectl(t *testing.T, env *envtest.Environment, kubeconfig string, stdin []byte, args ...string) []byte {
	t.Helper()
	out, err := runKubectl(env, kubeconfig, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runKubectl(env *envtest.Environment, kubeconfig string, stdin []byte, args ...string) ([]byte, error) {
	if kubeconfig != "" {
		args = append([]string{"--kubeconfig", kubeconfig}, args...)
	}
	cmd := exec.Command(localcluster.Kubectl(env), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %s: %w\n%s%s", strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out, nil
}

// render is `kubectl kustomize` of a directory under config/ (or the repository).
func render(t *testing.T, env *envtest.Environment, dir string) []byte {
	t.Helper()
	return kubectl(t, env, "", nil, "kustomize", filepath.Join(localcluster.Root(), dir))
}
