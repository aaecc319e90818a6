// Package localcluster starts a real control plane on this machine — kube-apiserver and
// etcd built from Go modules by hack/envtest.sh, with baton's CRDs installed — and runs the
// full baton manager against it. Every API-touching test, the local runner (make demo)
// and the benchmark use it. It finds the repository from its own source path, so it serves
// programs run from a checkout (go test, go run), not installed binaries.
package localcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/batonhq/baton/cmd/manager/app"
)

// Root is the repository root, found from this file's location.
func Root() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// AssetsDir is the directory holding kube-apiserver, etcd and kubectl: KUBEBUILDER_ASSETS
// when set (make test sets it), else the output of hack/envtest.sh, which builds them once.
func AssetsDir() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	cmd := exec.Command(filepath.Join(Root(), "hack", "envtest.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building the control plane with hack/envtest.sh: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// Scheme is the manager's scheme: the built-in kinds and baton's.
func Scheme() *runtime.Scheme {
	s, err := app.Scheme()
	if err != nil {
		panic(err) // static registration; cannot fail at run time
	}
	return s
}

// New returns an environment with baton's CRDs; call Start on it, and Stop when done.
func New() (*envtest.Environment, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	return &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(Root(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                Scheme(),
	}, nil
}

// EnvOption adjusts an environment before it starts.
type EnvOption func(*envtest.Environment)

// RestartableAPIServer keeps kube-apiserver's certificates in certDir (which the caller
// owns and removes) instead of a directory removed when it stops, so that
// env.ControlPlane.APIServer.Stop and Start bring it back on the same port, with the same
// serving certificate and client CA, on the same etcd: clients and kubeconfigs made before
// the restart keep working.
func RestartableAPIServer(certDir string) EnvOption {
	return func(env *envtest.Environment) {
		env.ControlPlane.GetAPIServer().CertDir = certDir
	}
}

// StartEnv starts kube-apiserver and etcd with baton's CRDs, without the manager, and
// returns the environment (Stop it when done), its config and a client that can watch.
func StartEnv(opts ...EnvOption) (*envtest.Environment, *rest.Config, client.WithWatch, error) {
	env, err := New()
	if err != nil {
		return nil, nil, nil, err
	}
	for _, opt := range opts {
		opt(env)
	}
	cfg, err := StartGuarded(env)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, nil, nil, errors.Join(err, env.Stop())
	}
	return env, cfg, c, nil
}

// Kubectl is the path of the kubectl built beside the control plane.
func Kubectl(env *envtest.Environment) string {
	return filepath.Join(env.BinaryAssetsDirectory, "kubectl")
}

// WriteKubeconfig writes a cluster-admin kubeconfig for env into dir, for kubectl and for
// programs started with --kubeconfig, and returns its path.
func WriteKubeconfig(env *envtest.Environment, dir string) (string, error) {
	user, err := env.AddUser(envtest.User{Name: "baton-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("adding a user to the control plane: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// BuildManager builds bin/manager's program from this tree into dir, for suites that run
// the manager as a process, and returns its path.
func BuildManager(dir string) (string, error) {
	bin := filepath.Join(dir, "manager")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/manager")
	cmd.Dir = Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/manager: %w\n%s", err, out)
	}
	return bin, nil
}
