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
	Took        time.Duration
	Errors      []error
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
	defer func() {
		if serr := mgr.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	cp.pids[roleManager] = mgr.cmd.Process.Pid
	peak := samplePeak(ctx, mgr.cmd.Process.Pid)
	defer func() { res.PeakRSS = peak.result() }()
	bn := &bench{log: log, s: s, cp: cp, mgr: mgr, prof: profiler{addr: mgr.pprof, dir: s.Profiles, build: b.Name, api: cp.raw.Discovery().RESTClient()}}

	// record keeps going after a failed measure unless the manager or ctx is gone.
	record := func(what string, err error) bool {
		if err == nil {
			return true
		}
		log.Error(err, "measure failed", "measure", what)
		res.Errors = append(res.Errors, fmt.Errorf("%s: %w", what, err))
		return ctx.Err() == nil && mgr.alive() == nil
	}
	idle, err := bn.settledMemory(ctx)
	if res.Idle = idle; !record("idle memory", err) {
		return res, mgr.alive()
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
		r, err := bn.runWorkload(ctx, w.name, w.sh, w.external)
		r.Failed = err != nil
		res.Workloads = append(res.Workloads, r)
		if !record(w.name, err) {
			return res, mgr.alive()
		}
	}
	for _, n := range s.Chains {
		if !s.runs("chains") {
			break
		}
		r, err := bn.runWorkload(ctx, fmt.Sprintf("chain %d", n), shape{Sequences: 1, Steps: n, Width: 1}, false)
		r.Failed = err != nil
		res.Chains = append(res.Chains, r)
		if !record(r.Name, err) {
			return res, mgr.alive()
		}
	}
	if s.BigSeqOn && s.runs("large") {
		r, err := bn.runWorkload(ctx, "large sequence", s.BigSeq, false)
		r.Failed = err != nil
		res.Big = &r
		if !record(r.Name, err) {
			return res, mgr.alive()
		}
	}
	if !s.runs("stored") {
		return res, nil
	}
	stored, err := bn.fillStored(ctx, s.Stored)
	res.StoredCount = stored
	if !record("storing commands", err) {
		return res, mgr.alive()
	}
	res.Stored, err = bn.settledMemory(ctx)
	record("memory with commands stored", err)
	if err := bn.prof.heap(ctx, "stored"); err != nil {
		log.Error(err, "profiling the manager's heap")
	}
	return res, nil
}

// alive says whether the manager is still running.
func (m *manager) alive() error {
	select {
	case err := <-m.exited:
		m.exited <- err
		return fmt.Errorf("the manager exited: %v (log: %s)", err, m.logPath)
	default:
		return nil
	}
}
