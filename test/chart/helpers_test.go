//go:build chart

package chart

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/batonhq/baton/internal/localcluster"
)

// tool runs a program with the environment env added, in the repository root, and returns
// its stdout; it fails the test on an error, or on a warning when strict.
type tool struct {
	path   string
	env    []string
	strict bool // a "Warning:" on stderr fails the test (kubectl: the API server warned)
}

func (tl tool) run(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	out, stderr, err := tl.try(stdin, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(tl.path), strings.Join(args, " "), err, out, stderr)
	}
	if tl.strict && bytes.Contains(stderr, []byte("Warning:")) {
		t.Fatalf("%s %s warned:\n%s", filepath.Base(tl.path), strings.Join(args, " "), stderr)
	}
	return out
}

// try runs the program and returns its stdout, its stderr and its error.
func (tl tool) try(stdin []byte, args ...string) ([]byte, []byte, error) {
	cmd := exec.Command(tl.path, args...)
	cmd.Dir = localcluster.Root()
	cmd.Env = append(os.Environ(), tl.env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return out, stderr.Bytes(), err
}

// helmPath is $HELM (make test-chart sets it), else what hack/helm.sh builds.
func helmPath(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("HELM"); path != "" {
		return path
	}
	cmd := exec.Command(filepath.Join(localcluster.Root(), "hack", "helm.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("building helm with hack/helm.sh: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// serviceMonitorCRD is prometheus-operator's ServiceMonitor CRD, from its Go module at the
// version pinned in hack/helm/servicemonitor/go.mod.
func serviceMonitorCRD(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/prometheus-operator/prometheus-operator")
	cmd.Dir = filepath.Join(localcluster.Root(), "hack", "helm", "servicemonitor")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("downloading prometheus-operator's module: %v\n%s", err, out)
	}
	var mod struct{ Dir, Version string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download -json gave no module directory (%v):\n%s", err, out)
	}
	t.Logf("ServiceMonitor CRD of prometheus-operator %s", mod.Version)
	return filepath.Join(mod.Dir, "example", "prometheus-operator-crd", "monitoring.coreos.com_servicemonitors.yaml")
}
