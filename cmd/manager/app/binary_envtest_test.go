package app_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/batonhq/baton/internal/localcluster"
)

// The specs that run bin/manager's program as a process, as a kubelet or a user would: the
// exit code and the one line it prints are what they check, and two managers without leader
// election are two processes.

var (
	managerBuild     sync.Once
	managerBinary    string
	managerBuildErr  error
	managerBuildDirs []string
)

// TestMain removes the manager binary built for the specs.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range managerBuildDirs {
		_ = os.RemoveAll(dir)
	}
	os.Exit(code)
}

// buildManager builds bin/manager's program once for the package's specs.
func buildManager(t *testing.T) string {
	t.Helper()
	managerBuild.Do(func() {
		dir, err := os.MkdirTemp("", "baton-manager-")
		if err != nil {
			managerBuildErr = err
			return
		}
		managerBuildDirs = append(managerBuildDirs, dir)
		managerBinary, managerBuildErr = localcluster.BuildManager(dir)
	})
	if managerBuildErr != nil {
		t.Fatal(managerBuildErr)
	}
	return managerBinary
}

// process is a manager started as a process; its stderr is kept for the spec to read.
type process struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // cmd.Wait's result, once done is closed
	mu     sync.Mutex
	stderr bytes.Buffer
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

// output is what the process printed on stderr so far.
func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startManager runs the manager binary against kubeconfig with args (listeners off unless
// args set them) until the spec ends: then it is sent SIGTERM, and killed if still running
// 30 s later.
func startManager(t *testing.T, kubeconfig string, args ...string) *process {
	t.Helper()
	all := append([]string{"--kubeconfig", kubeconfig, "--metrics-bind-address", "0", "--health-probe-bind-address", "0"}, args...)
	p := &process{cmd: exec.Command(buildManager(t), all...), done: make(chan struct{})}
	p.cmd.Stderr = p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		p.err = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// stop sends SIGTERM and waits for the process to exit; it returns an error only when it
// had to be killed.
func (p *process) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("manager still running 30s after SIGTERM; killed")
	}
}

// kill sends SIGKILL, as the OOM killer or a lost node would, and waits for the exit.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// exitCode waits for the process to exit by itself and returns its exit code.
func (p *process) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("manager still running after 60s, want it to exit; stderr:\n%s", p.output())
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// linesWith returns the lines of the process's stderr that contain every one of parts.
func (p *process) linesWith(parts ...string) []string {
	var out []string
	for _, line := range strings.Split(p.output(), "\n") {
		all := true
		for _, part := range parts {
			all = all && strings.Contains(line, part)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// refused asserts that the process exited with code 1 and printed exactly one line
// holding the refusal and every one of parts.
func (p *process) refused(t *testing.T, parts ...string) {
	t.Helper()
	if code := p.exitCode(t); code != 1 {
		t.Fatalf("manager exited with code %d, want 1; stderr:\n%s", code, p.output())
	}
	if lines := p.linesWith(append([]string{"refusing to start"}, parts...)...); len(lines) != 1 {
		t.Fatalf("stderr has %d lines refusing to start and naming %q, want 1:\n%s", len(lines), parts, p.output())
	} else {
		t.Logf("refused: %s", lines[0])
	}
}

// binaryEnv is a control plane for specs that run the manager as a process.
type binaryEnv struct {
	env        *envtest.Environment
	cfg        *rest.Config
	client     client.Client
	kubeconfig string
}

// startBinaryEnv starts a control plane with the given CRD files (none: baton's) and writes
// a cluster-admin kubeconfig for it; both end with the spec.
func startBinaryEnv(t *testing.T, crdFiles ...string) *binaryEnv {
	t.Helper()
	ctrl.SetLogger(logr.Discard()) // envtest's own logging; the managers log to their stderr
	var opts []localcluster.EnvOption
	if len(crdFiles) > 0 {
		opts = append(opts, func(env *envtest.Environment) {
			env.CRDDirectoryPaths = nil
			for _, f := range crdFiles {
				env.CRDDirectoryPaths = append(env.CRDDirectoryPaths, filepath.Join(localcluster.Root(), f))
			}
		})
	}
	env, cfg, c, err := localcluster.StartEnv(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	kubeconfig, err := localcluster.WriteKubeconfig(env, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &binaryEnv{env: env, cfg: cfg, client: c, kubeconfig: kubeconfig}
}
