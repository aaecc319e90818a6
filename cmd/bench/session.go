package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// run builds the managers, measures each build in turn and prints the report. Whatever
// happens, it removes the baseline worktree and its scratch directory.
func run(ctx context.Context, log logr.Logger, s settings, out io.Writer) (err error) {
	start, loadBefore := time.Now(), loadAverage()
	repo, err := repoRoot(ctx)
	if err != nil {
		return err
	}
	scratch, cleanup, err := tempDir()
	if err != nil {
		return err
	}
	defer cleanup()

	var builds []build
	for _, name := range s.Builds {
		tree := repo
		if name == "baseline" {
			wt, remove, werr := addWorktree(ctx, repo, s.Baseline, scratch)
			defer func() {
				if rerr := remove(); rerr != nil {
					err = errors.Join(err, fmt.Errorf("removing the baseline worktree: %w", rerr))
				}
			}()
			if werr != nil {
				return werr
			}
			tree = wt
		}
		b, err := buildManager(ctx, log, name, tree, scratch)
		if err != nil {
			return err
		}
		builds = append(builds, b)
	}
	var tekton tektonRelease
	if s.Peer == peerTekton {
		if tekton, err = buildTekton(ctx, log, repo); err != nil {
			return err
		}
	}

	var results []buildResult
	var errs []error
	for _, b := range builds {
		if ctx.Err() != nil {
			break
		}
		r, err := measureBuild(ctx, log, s, b, scratch)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.Name, err))
			r.Errors = append(r.Errors, err)
		}
		results = append(results, r)
	}
	if s.Peer == peerTekton && ctx.Err() == nil {
		r, err := measurePeer(ctx, log, s, repo, tekton, scratch)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", peerTekton, err))
			r.Errors = append(r.Errors, err)
		}
		results = append(results, r)
	}
	fmt.Fprintf(out, "## baton bench\n\n%s\n- load average (1, 5, 15 min) at start: %s; at end: %s\n\n",
		describeRun(ctx, s, time.Since(start)), loadBefore, loadAverage())
	writeReport(out, s, results)
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("interrupted: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// describeRun says where and how the figures were taken.
func describeRun(ctx context.Context, s settings, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- machine: %d CPUs (%s), %s memory; %s\n", runtime.NumCPU(), cpuModel(), memTotal(), runtime.Version())
	if v := apiserverVersion(context.WithoutCancel(ctx)); v != "" {
		fmt.Fprintf(&b, "- control plane: envtest, kube-apiserver %s\n", v)
	}
	fmt.Fprintf(&b, "- BENCH_BASELINE=%s BENCH_FULL=%v BENCH_SCALE=%g BENCH_PEER=%s; whole run %s", s.Baseline, s.Full, s.Scale, s.Peer, took.Round(time.Second))
	return b.String()
}

// loadAverage is /proc/loadavg's first three fields: on a shared machine, the noise.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	var kb float64
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
		}
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}

// apiserverVersion asks the kube-apiserver binary envtest uses for its version.
func apiserverVersion(ctx context.Context) string {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, dir+"/kube-apiserver", "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
