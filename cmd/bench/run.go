package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
)

// buildResult is everything measured for one build.
type buildResult struct {
	Build       build
	Ceiling     ceiling
	Workloads   []workloadResult // A, B, C
	Chains      []workloadResult
	Big         *workloadResult
	Idle        memory
	Stored      memory
	StoredCount int
	PeakRSS     float64
	// Restarts are the workloads after which the manager was restarted (they failed or
	// timed out): the measures after each ran on a fresh manager, same control plane.
	Restarts []string
	Took     time.Duration
	Errors   []error
}

// largestSequence is the largest CommandSequence seen in any workload.
func (r buildResult) largestSequence() int {
	largest := 0
	for _, w := range r.all() {
		largest = max(largest, w.SeqBytes)
	}
	return largest
}

func (r buildResult) all() []workloadResult {
	out := append(append([]workloadResult{}, r.Workloads...), r.Chains...)
	if r.Big != nil {
		out = append(out, *r.Big)
	}
	return out
}

// measureBuild measures b against a fresh control plane: the ceiling first (no manager),
// then the manager as a subprocess through every workload. Measures that fail are
// recorded and the next one runs; a control plane or manager that cannot start ends the
// build. Everything started is stopped before it returns.
func measureBuild(ctx context.Context, log logr.Logger, s settings, b build, scratch string) (res buildResult, err error) {
	res.Build = b
	start := time.Now()
	defer func() { res.Took = time.Since(start) }()
	dir := filepath.Join(scratch, b.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	log = log.WithValues("build", b.Name)
	log.Info("starting a control plane", "crds", filepath.Join(b.Tree, "config", "crd", "bases"))
	cp, err := startControlPlane(b.Tree, dir)
	if err != nil {
		return res, err
	}
	defer func() {
		if serr := cp.stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the control plane: %w", serr))
		}
	}()
	if res.Ceiling, err = measureCeiling(ctx, cp, s.CeilingDuration); err != nil {
		return res, fmt.Errorf("measuring the ceiling: %w", err)
	}
	log.Info("ceiling", "1 worker", fmt.Sprintf("%.0f/s", res.Ceiling.One), "8 workers", fmt.Sprintf("%.0f/s", res.Ceiling.Eight))

	mgr, err := startManager(ctx, b, cp.kubeconfig, dir)
	if err != nil {
		return res, err
	}
	cp.pids[roleManager] = mgr.cmd.Process.Pid
	bn := &bench{log: log, s: s, cp: cp, mgr: mgr, build: b, dir: dir,
		prof: profiler{addr: mgr.pprof, dir: s.Profiles, build: b.Name, api: cp.raw.Discovery().RESTClient()}}
	defer func() {
		if serr := bn.mgr.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	peak := samplePeak(ctx, func() int { return bn.cp.pids[roleManager] })
	defer func() { res.PeakRSS = peak.result() }()

	// record keeps going after a failed measure unless the manager or ctx is gone.
	record := func(what string, err error) bool {
		if err == nil {
			return true
		}
		log.Error(err, "measure failed", "measure", what)
		res.Errors = append(res.Errors, fmt.Errorf("%s: %w", what, err))
		return ctx.Err() == nil && bn.mgr.alive() == nil
	}
	// workload runs one, and after a failed one (a timeout leaves the manager busy with
	// its sequences) starts the next from a fresh manager on the same control plane.
	workload := func(name string, sh shape, external bool) (workloadResult, bool) {
		r, err := bn.runWorkload(ctx, name, sh, external)
		r.Failed = err != nil
		if !record(name, err) {
			return r, false
		}
		if r.Failed {
			if err := bn.restartManager(ctx, r.Namespace); err != nil {
				record("restarting the manager after "+name, err)
				return r, false
			}
			res.Restarts = append(res.Restarts, name)
		}
		return r, true
	}
	idle, err := bn.settledMemory(ctx)
	if res.Idle = idle; !record("idle memory", err) {
		return res, bn.mgr.alive()
	}
	for _, w := range []struct {
		measure, name string
		sh            shape
		external      bool
	}{
		{"A", workloadA, s.WorkloadA, false},
		{"B", "B in-process batches", s.WorkloadB, false},
		{"C", "C external", s.WorkloadC, true},
	} {
		if !s.runs(w.measure) {
			continue
		}
		r, ok := workload(w.name, w.sh, w.external)
		res.Workloads = append(res.Workloads, r)
		if !ok {
			return res, bn.mgr.alive()
		}
	}
	for _, n := range s.Chains {
		if !s.runs("chains") {
			break
		}
		r, ok := workload(fmt.Sprintf("chain %d", n), shape{Sequences: 1, Steps: n, Width: 1}, false)
		res.Chains = append(res.Chains, r)
		if !ok {
			return res, bn.mgr.alive()
		}
	}
	if s.BigSeqOn && s.runs("large") {
		r, ok := workload("large sequence", s.BigSeq, false)
		res.Big = &r
		if !ok {
			return res, bn.mgr.alive()
		}
	}
	if !s.runs("stored") {
		return res, nil
	}
	stored, err := bn.fillStored(ctx, s.Stored)
	res.StoredCount = stored
	if !record("storing commands", err) {
		return res, bn.mgr.alive()
	}
	res.Stored, err = bn.settledMemory(ctx)
	record("memory with commands stored", err)
	if err := bn.prof.heap(ctx, "stored"); err != nil {
		log.Error(err, "profiling the manager's heap")
	}
	return res, nil
}

// restartManager stops the manager, deletes the commands and sequences a failed workload
// left in ns (nothing is left running for the fresh manager to resume, or to hold in its
// cache), and starts a fresh manager on the same control plane.
func (b *bench) restartManager(ctx context.Context, ns string) error {
	b.log.Info("restarting the manager after a failed workload", "namespace", ns)
	if err := b.mgr.stop(); err != nil {
		b.log.Error(err, "stopping the manager")
	}
	if ns != "" {
		if err := deleteWorkload(ctx, b.cp.client, ns); err != nil {
			return err
		}
	}
	mgr, err := startManager(ctx, b.build, b.cp.kubeconfig, b.dir)
	if err != nil {
		return err
	}
	b.mgr, b.cp.pids[roleManager], b.prof.addr = mgr, mgr.cmd.Process.Pid, mgr.pprof
	return nil
}

// alive says whether the manager is still running.
func (m *manager) alive() error {
	select {
	case err := <-m.exited:
		m.exited <- err
		return fmt.Errorf("%s exited: %v (log: %s)", m.name, err, m.logPath)
	default:
		return nil
	}
}
