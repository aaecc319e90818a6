package localcluster

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envWatchdogChild makes the test binary the process that dies: it starts a control plane,
// prints the pids of what it started, and panics.
const envWatchdogChild = "BATON_WATCHDOG_CHILD"

// TestWatchdogStopsAnOrphanedControlPlane: a process that starts a control plane and then
// panics, with no deferred Stop run, leaves no kube-apiserver or etcd behind.
func TestWatchdogStopsAnOrphanedControlPlane(t *testing.T) {
	if os.Getenv(envWatchdogChild) != "" {
		startThenPanic()
		return
	}
	if !readableProc() {
		t.Fatal("/proc cannot be read: the watchdog has nothing to guard with")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdogStopsAnOrphanedControlPlane$")
	cmd.Env = append(os.Environ(), envWatchdogChild+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	scan := bufio.NewScanner(out)
	for scan.Scan() {
		if rest, ok := strings.CutPrefix(scan.Text(), "started "); ok {
			for _, f := range strings.Fields(rest) {
				pid, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("reading the child's pids: %v", err)
				}
				pids = append(pids, pid)
			}
		}
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the child did not panic")
	}
	if len(pids) < 2 {
		t.Fatalf("the child started %v, want kube-apiserver and etcd", pids)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				for _, p := range pids {
					_ = syscall.Kill(-p, syscall.SIGKILL) // what the watchdog should have done
				}
				t.Fatalf("process %d of the dead child's control plane is still running", pid)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func startThenPanic() {
	env, err := New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if _, err := StartGuarded(env); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var pids []string
	for pid, name := range Children() {
		if name == "kube-apiserver" || name == "etcd" {
			pids = append(pids, strconv.Itoa(pid))
		}
	}
	fmt.Println("started " + strings.Join(pids, " "))
	panic("a goroutine panicked with the control plane running")
}

// alive reports whether pid runs (a zombie, exited and not yet reaped, does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || !strings.HasPrefix(strings.TrimSpace(string(stat[i+1:])), "Z")
}

func readableProc() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}
