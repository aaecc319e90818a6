package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/batonhq/baton/internal/localcluster"
)

// TestManagerBinary builds bin/manager's program, runs it against a real API server,
// waits for its probes, and stops it with SIGTERM, as a kubelet would.
func TestManagerBinary(t *testing.T) {
	env, _, _, err := localcluster.StartEnv()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	dir := t.TempDir()
	kubeconfig, err := localcluster.WriteKubeconfig(env, dir)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "manager")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	probes, err := localcluster.FreeAddress()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--kubeconfig", kubeconfig,
		"--health-probe-bind-address", probes, "--metrics-bind-address", "0")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for _, probe := range []string{"healthz", "readyz"} {
		if err := localcluster.WaitOK(fmt.Sprintf("http://%s/%s", probes, probe), 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("manager exited with %v after SIGTERM, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("manager still running 30s after SIGTERM")
	}
}
