package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/batonhq/baton/internal/localcluster"
)

// manager is the baton manager under test, running as a subprocess with its default
// flags plus the listeners the bench needs.
type manager struct {
	name    string // for errors: "the manager", "Tekton's controller"
	cmd     *exec.Cmd
	metrics string // http://host:port/metrics
	pprof   string // host:port, when the build has a pprof flag
	logPath string
	exited  chan error
}

// startManager starts b's binary against kubeconfig and waits until its controller runs.
func startManager(ctx context.Context, b build, kubeconfig, dir string) (*manager, error) {
	metrics, err := localcluster.FreeAddress()
	if err != nil {
		return nil, err
	}
	m := &manager{name: "the manager", metrics: "http://" + metrics + "/metrics", exited: make(chan error, 1)}
	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--metrics-bind-address=" + metrics,
		"--health-probe-bind-address=0",
	}
	for _, f := range []string{"pprof-bind-address", "pprof-address", "pprof"} {
		if b.hasFlag(f) {
			if m.pprof, err = localcluster.FreeAddress(); err != nil {
				return nil, err
			}
			args = append(args, "--"+f+"="+m.pprof)
			break
		}
	}
	if err := m.start(exec.Command(b.Binary, args...), filepath.Join(dir, "manager-"+b.Name+".log")); err != nil {
		return nil, err
	}
	if err := m.waitReady(ctx, time.Minute); err != nil {
		return nil, errors.Join(err, m.stop())
	}
	return m, nil
}

// start runs cmd with its output in logPath, in its own process group, killed if the
// bench dies without cleaning up; m.exited receives its end.
func (m *manager) start(cmd *exec.Cmd, logPath string) error {
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	m.cmd, m.logPath = cmd, logPath
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	go func() {
		m.exited <- cmd.Wait()
		logFile.Close()
	}()
	return nil
}

// waitReady waits until the sequence controller has started (its reconcile counters are
// published at start).
func (m *manager) waitReady(ctx context.Context, timeout time.Duration) error {
	return poll(ctx, timeout, 200*time.Millisecond, "the manager to start its controller", func() (bool, error) {
		select {
		case err := <-m.exited:
			m.exited <- err
			return false, fmt.Errorf("%s exited: %v (log: %s)", m.name, err, m.logPath)
		default:
		}
		samples, err := m.scrape(ctx)
		if err != nil {
			return false, nil
		}
		_, ok := sumWhere(samples, "controller_runtime_reconcile_total", map[string]string{"controller": "sequence"})
		return ok, nil
	})
}

// stop sends SIGTERM, then SIGKILL after 15 s, to the manager's process group.
func (m *manager) stop() error {
	if m == nil || m.cmd == nil || m.cmd.Process == nil {
		return nil
	}
	pgid := m.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case err := <-m.exited:
		m.exited <- err
		return nil
	case <-time.After(15 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-m.exited:
		return fmt.Errorf("%s did not stop on SIGTERM within 15 s; killed", m.name)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) survived SIGKILL", m.name, pgid)
	}
}

// scrape reads the manager's own /metrics.
func (m *manager) scrape(ctx context.Context) ([]sample, error) {
	var samples []sample
	err := get(ctx, m.metrics, func(body io.Reader) (err error) {
		samples, err = parseSamples(body)
		return err
	})
	return samples, err
}

// httpOK says whether url answers 200 OK.
func httpOK(ctx context.Context, url string) error {
	return get(ctx, url, func(io.Reader) error { return nil })
}

// get GETs url (10 s at most) and hands a 200 OK's body to read.
func get(ctx context.Context, url string, read func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return read(resp.Body)
}

// queueTimes are the manager's workqueue counters for its sequence controller
// (controller-runtime's workqueue metrics): seconds items waited, seconds reconciles took,
// and how many of each.
type queueTimes struct {
	Waited, Worked float64
	Waits, Works   float64
}

func (m *manager) queueTimes(ctx context.Context) (queueTimes, error) {
	samples, err := m.scrape(ctx)
	if err != nil {
		return queueTimes{}, err
	}
	name := map[string]string{"name": "sequence"}
	var q queueTimes
	q.Waited, _ = sumWhere(samples, "workqueue_queue_duration_seconds_sum", name)
	q.Waits, _ = sumWhere(samples, "workqueue_queue_duration_seconds_count", name)
	q.Worked, _ = sumWhere(samples, "workqueue_work_duration_seconds_sum", name)
	q.Works, _ = sumWhere(samples, "workqueue_work_duration_seconds_count", name)
	return q, nil
}

func (q queueTimes) minus(before queueTimes) queueTimes {
	return queueTimes{Waited: q.Waited - before.Waited, Worked: q.Worked - before.Worked,
		Waits: q.Waits - before.Waits, Works: q.Works - before.Works}
}

// meanWait and meanWork are the mean time an item waited in the queue and a reconcile
// took; 0 when there was none.
func (q queueTimes) meanWait() time.Duration { return meanSeconds(q.Waited, q.Waits) }
func (q queueTimes) meanWork() time.Duration { return meanSeconds(q.Worked, q.Works) }

// memory is the manager's resident set and Go heap in use.
type memory struct {
	RSS, Heap float64 // bytes
}

func (m *manager) memory(ctx context.Context) (memory, error) {
	rss, err := vmRSS(m.cmd.Process.Pid)
	if err != nil {
		return memory{}, err
	}
	samples, err := m.scrape(ctx)
	if err != nil {
		return memory{}, err
	}
	heap, _ := sumWhere(samples, "go_memstats_heap_inuse_bytes", nil)
	return memory{RSS: rss, Heap: heap}, nil
}

// vmRSS reads VmRSS from /proc/<pid>/status, in bytes.
func vmRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			kb, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmRSS %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// quiet waits until the manager has nothing queued and has made no write for a while:
// the end of a workload's tail (coalesced progress, reports). Its own counters only
// decide when to stop waiting; nothing is measured from them.
func (m *manager) quiet(ctx context.Context, still, timeout time.Duration) error {
	var last float64 = -1
	var since time.Time
	return poll(ctx, timeout, 200*time.Millisecond, "the manager to go quiet", func() (bool, error) {
		samples, err := m.scrape(ctx)
		if err != nil {
			return false, err
		}
		depth, _ := sumWhere(samples, "workqueue_depth", map[string]string{"name": "sequence"})
		var writes float64
		for _, s := range samples {
			if s.name == "rest_client_requests_total" && s.labels["method"] != "GET" {
				writes += s.value
			}
		}
		if depth > 0 || writes != last {
			last, since = writes, time.Now()
			return false, nil
		}
		return time.Since(since) >= still, nil
	})
}

// poll calls cond every interval until it is true, fails, ctx ends or timeout passes.
func poll(ctx context.Context, timeout, interval time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("waiting for %s: timed out after %s", what, timeout)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}
