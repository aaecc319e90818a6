package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
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
	cp, err := startMeasured(ctx, log, s, &res, b.Tree, dir)
	if err != nil {
		return res, err
	}
	defer func() {
		if serr := cp.stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the control plane: %w", serr))
		}
	}()

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

	m := &measureRun{ctx: ctx, log: log, res: &res, alive: func() error { return bn.mgr.alive() },
		restart: func(ns string) error { return bn.restartManager(ctx, ns) }}
	record := m.record
	workload := func(name string, sh shape, external bool) (workloadResult, bool) {
		return m.workload(name, func() (workloadResult, error) { return bn.runWorkload(ctx, name, sh, external) })
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

// startMeasured starts a fresh control plane with tree's CRDs and extra, and measures its
// ceiling into res before anything else runs on it. On an error nothing is left running.
func startMeasured(ctx context.Context, log logr.Logger, s settings, res *buildResult, tree, dir string, extra ...*apiextensionsv1.CustomResourceDefinition) (*controlPlane, error) {
	log.Info("starting a control plane", "crds", filepath.Join(tree, "config", "crd", "bases"), "more CRDs", len(extra))
	cp, err := startControlPlane(tree, dir, extra...)
	if err != nil {
		return nil, err
	}
	if res.Ceiling, err = measureCeiling(ctx, cp, s.CeilingDuration); err != nil {
		return nil, errors.Join(fmt.Errorf("measuring the ceiling: %w", err), cp.stop())
	}
	log.Info("ceiling", "1 worker", fmt.Sprintf("%.0f/s", res.Ceiling.One), "8 workers", fmt.Sprintf("%.0f/s", res.Ceiling.Eight))
	return cp, nil
}

// measureRun runs one subject's measures in turn (a build's manager, or the peer's
// controller): it records a failed one and keeps going unless the subject or ctx is gone,
// and after a failed workload (a timeout leaves the subject busy with its runs) starts
// the next from a fresh process on the same control plane.
type measureRun struct {
	ctx     context.Context
	log     logr.Logger
	res     *buildResult
	alive   func() error
	restart func(ns string) error
}

// record notes err, if any, and says whether to go on.
func (m *measureRun) record(what string, err error) bool {
	if err == nil {
		return true
	}
	m.log.Error(err, "measure failed", "measure", what)
	m.res.Errors = append(m.res.Errors, fmt.Errorf("%s: %w", what, err))
	return m.ctx.Err() == nil && m.alive() == nil
}

// workload runs one workload; ok says whether to go on.
func (m *measureRun) workload(name string, run func() (workloadResult, error)) (r workloadResult, ok bool) {
	r, err := run()
	r.Failed = err != nil
	if !m.record(name, err) {
		return r, false
	}
	if r.Failed {
		if err := m.restart(r.Namespace); err != nil {
			m.record("restarting after "+name, err)
			return r, false
		}
		m.res.Restarts = append(m.res.Restarts, name)
	}
	return r, true
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
