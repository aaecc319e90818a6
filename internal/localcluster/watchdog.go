package localcluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// StartGuarded starts env as env.Start does, and a watchdog that kills the kube-apiserver
// and etcd it started if this process dies without stopping them: a panic in any goroutine
// (go test's -timeout is one) or a SIGKILL, which no deferred call or signal handler
// (OnSignal) outlives. Stop env as usual; the watchdog then exits by itself within a
// second. Where /proc cannot be read, env starts unguarded.
func StartGuarded(env *envtest.Environment) (*rest.Config, error) {
	before := Children()
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	var started []int
	for pid := range Children() {
		if _, ok := before[pid]; !ok {
			started = append(started, pid)
		}
	}
	if err := watch(started); err != nil {
		return nil, errors.Join(err, env.Stop())
	}
	return cfg, nil
}

// watchdogScript waits while its parent (the first argument) lives and any of the other
// pids does; when the parent is gone first, it kills the others' process groups (envtest
// starts each in a group of its own) or, failing that, the processes.
const watchdogScript = `parent=$1; shift
while kill -0 "$parent" 2>/dev/null; do
  alive=0
  for p in "$@"; do if kill -0 "$p" 2>/dev/null; then alive=1; fi; done
  [ "$alive" = 1 ] || exit 0
  sleep 1
done
for p in "$@"; do kill -9 -- "-$p" 2>/dev/null || kill -9 "$p" 2>/dev/null; done`

// watch starts the watchdog of pids, in a process group of its own so that a signal to
// this process's group (Ctrl-C) leaves it to do its work.
func watch(pids []int) error {
	if len(pids) == 0 {
		return nil
	}
	args := []string{"-c", watchdogScript, "watchdog", strconv.Itoa(os.Getpid())}
	for _, pid := range pids {
		args = append(args, strconv.Itoa(pid))
	}
	cmd := exec.Command("sh", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the control plane's watchdog: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// Children lists this process's child processes by pid, each with its command name, as
// /proc shows them; none where /proc cannot be read.
func Children() map[int]string {
	self := strconv.Itoa(os.Getpid())
	out := map[int]string{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		open, closing := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(string(stat[closing+1:]))
		if len(f) < 2 || f[1] != self {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(dir)); err == nil {
			out[pid] = string(stat[open+1 : closing])
		}
	}
	return out
}
