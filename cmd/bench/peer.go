package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// peerTekton is BENCH_PEER's one value: Tekton Pipelines, the tool a reader would
// otherwise pick for sequenced steps on Kubernetes.
const peerTekton = "tekton"

// Labels Tekton puts on a CustomRun it creates for a pipeline task.
const (
	labelPipelineRun  = "tekton.dev/pipelineRun"
	labelPipelineTask = "tekton.dev/pipelineTask"
)

// pipelineRuns builds sh.Sequences PipelineRuns, each embedding a pipeline of sh.Steps
// custom-task steps chained by runAfter (batch width 1, as baton's workload A and
// chains).
func pipelineRuns(ns, prefix string, sh shape) []client.Object {
	var out []client.Object
	for s := range sh.Sequences {
		var tasks []any
		for i := range sh.Steps {
			task := map[string]any{
				"name":    stepName(i),
				"taskRef": map[string]any{"apiVersion": customTaskAPIVersion, "kind": customTaskKind},
			}
			if i > 0 {
				task["runAfter"] = []any{stepName(i - 1)}
			}
			tasks = append(tasks, task)
		}
		pr := &unstructured.Unstructured{Object: map[string]any{
			"metadata": map[string]any{"name": fmt.Sprintf("%s-%d", prefix, s), "namespace": ns},
			"spec":     map[string]any{"pipelineSpec": map[string]any{"tasks": tasks}},
		}}
		pr.SetGroupVersionKind(pipelineRunGVK)
		out = append(out, pr)
	}
	return out
}

func stepName(i int) string { return fmt.Sprintf("step-%d", i) }

// stepIndex is the index in a pipeline task's name step-N; -1 for another name.
func stepIndex(task string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(task, "step-"))
	if err != nil || !strings.HasPrefix(task, "step-") {
		return -1
	}
	return n
}

// runObserver watches one namespace's CustomRuns and PipelineRuns: a CustomRun's
// creation is its step's opening (Started), its Succeeded condition its completion.
type runObserver struct {
	mu        sync.Mutex
	runs      map[string]*seen
	completed int
	ended     map[string]bool
	failed    []string
	errs      []error
}

func observeRuns(ctx context.Context, log logr.Logger, c client.WithWatch, ns string) (*runObserver, error) {
	o := &runObserver{runs: map[string]*seen{}, ended: map[string]bool{}}
	opts := []client.ListOption{client.InNamespace(ns)}
	if err := follow(ctx, log, c, newCustomRunList, opts, o.onCustomRun, o.fail); err != nil {
		return nil, err
	}
	if err := follow(ctx, log, c, newPipelineRunList, opts, o.onPipelineRun, o.fail); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *runObserver) fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs = append(o.errs, err)
}

func (o *runObserver) onCustomRun(ev watch.Event) {
	now := time.Now()
	u, ok := ev.Object.(*unstructured.Unstructured)
	if !ok || ev.Type == watch.Deleted {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.runs[u.GetName()]
	if s == nil {
		s = &seen{Seq: u.GetLabels()[labelPipelineRun], Index: stepIndex(u.GetLabels()[labelPipelineTask]), Started: now}
		o.runs[u.GetName()] = s
	}
	if cond := runCondition(u); s.Completed.IsZero() && (cond == "True" || cond == "False") {
		s.Completed = now
		s.Phase = cond
		o.completed++
	}
}

func (o *runObserver) onPipelineRun(ev watch.Event) {
	u, ok := ev.Object.(*unstructured.Unstructured)
	if !ok || ev.Type == watch.Deleted {
		return
	}
	cond := runCondition(u)
	if cond != "True" && cond != "False" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.ended[u.GetName()] && cond == "False" {
		o.failed = append(o.failed, fmt.Sprintf("PipelineRun %s failed: %s", u.GetName(), runMessage(u)))
	}
	o.ended[u.GetName()] = true
}

func (o *runObserver) progress() (completed, ended int, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.errs) > 0 {
		err = o.errs[0]
	} else if len(o.failed) > 0 {
		err = errors.New(o.failed[0])
	}
	return o.completed, len(o.ended), err
}

// waitDone waits until steps CustomRuns have completed and runs PipelineRuns have ended
// (a failed one ends the wait with its message).
func (o *runObserver) waitDone(ctx context.Context, steps, runs int, timeout time.Duration, alive func() error) error {
	return waitCounts(ctx, timeout, alive, o.progress, [2]int{steps, runs}, [2]string{"CustomRuns to complete", "PipelineRuns to end"})
}

func (o *runObserver) snapshot() map[string]seen {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]seen, len(o.runs))
	for k, v := range o.runs {
		out[k] = *v
	}
	return out
}

// peerBench is the peer's measuring session: its control plane and its controller.
type peerBench struct {
	log      logr.Logger
	s        settings
	cp       *controlPlane
	ctl      *manager
	rel      tektonRelease
	dir      string
	nsSerial int
}

// canaryTimeout bounds the canary PipelineRun: a controller's start, informers and leases.
const canaryTimeout = 2 * time.Minute

// startController starts Tekton's controller and proves it reconciles with a canary: a
// PipelineRun of two custom-task steps that must succeed (its requests are outside every
// measure).
func (p *peerBench) startController(ctx context.Context) error {
	ctl, err := startTekton(ctx, p.rel, p.cp.kubeconfig, p.dir)
	if err != nil {
		return err
	}
	p.ctl, p.cp.pids[roleManager] = ctl, ctl.cmd.Process.Pid
	// Not BENCH_TIMEOUT: a fresh controller may first wait for its predecessor's leases.
	if _, err := p.runWorkload(ctx, "canary", shape{Sequences: 1, Steps: 2, Width: 1}, canaryTimeout); err != nil {
		return fmt.Errorf("the canary PipelineRun did not succeed on Tekton's controller: %w", err)
	}
	return nil
}

// restartController stops the controller, deletes what a failed workload left in ns and
// starts a fresh controller on the same control plane.
func (p *peerBench) restartController(ctx context.Context, ns string) error {
	p.log.Info("restarting Tekton's controller after a failed workload", "namespace", ns)
	if err := p.ctl.stop(); err != nil {
		p.log.Error(err, "stopping Tekton's controller")
	}
	for _, list := range []client.ObjectList{newPipelineRunList(), newCustomRunList()} {
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(list.GetObjectKind().GroupVersionKind())
		obj.SetKind(strings.TrimSuffix(obj.GetKind(), "List"))
		if err := p.cp.client.DeleteAllOf(ctx, obj, client.InNamespace(ns)); err != nil {
			return fmt.Errorf("deleting %s's %ss: %w", ns, obj.GetKind(), err)
		}
	}
	return p.startController(ctx)
}

// runWorkload creates sh's PipelineRuns in a new namespace at once, waits for every step
// to complete and every PipelineRun to end, then for the controller to go quiet, and counts
// the controller's requests at the API server over the window, as baton's runWorkload.
func (p *peerBench) runWorkload(ctx context.Context, name string, sh shape, timeout time.Duration) (workloadResult, error) {
	res := workloadResult{Name: name, Shape: sh, Commands: sh.commands(), Kinds: tektonKinds}
	p.nsSerial++
	ns := fmt.Sprintf("tekton-%d-%s", p.nsSerial, sanitize(name))
	res.Namespace = ns
	if err := ensureNamespace(ctx, p.cp.client, ns); err != nil {
		return res, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	obs, err := observeRuns(wctx, p.log, p.cp.client, ns)
	if err != nil {
		return res, err
	}
	tasks, err := startCustomTasks(wctx, p.log, p.cp.client, ns, p.s.ExecWorker)
	if err != nil {
		return res, err
	}
	alive := func() error {
		if err := tasks.failed(); err != nil {
			return err
		}
		return p.ctl.alive()
	}
	runs := pipelineRuns(ns, "p", sh)
	before, err := p.cp.apiMetrics(ctx)
	if err != nil {
		return res, err
	}
	p.log.Info("peer workload", "name", name, "shape", sh.String(), "namespace", ns)
	start, cpuStart := time.Now(), readCPU(p.cp.pids)
	created, err := createObjects(ctx, p.cp.client, p.s.Workers, runs)
	if err != nil {
		return res, err
	}
	createdAt := time.Now()
	res.Creating = createdAt.Sub(start)
	if err := obs.waitDone(ctx, res.Commands, sh.Sequences, timeout, alive); err != nil {
		return res, fmt.Errorf("workload %s: %w", name, err)
	}
	last := res.timings(obs.snapshot(), start, createdAt, false)
	if err := p.quiet(ctx, time.Second, time.Minute); err != nil {
		return res, err
	}
	res.Tail = time.Since(last)
	res.CPU = readCPU(p.cp.pids).since(cpuStart)
	after, err := p.cp.apiMetrics(ctx)
	if err != nil {
		return res, err
	}
	cancel()
	if err := tasks.wait(); err != nil {
		return res, err
	}
	own := requestCounts{
		{Resource: "pipelineruns", Verb: "CREATE"}:                     float64(created),
		{Resource: "customruns", Subresource: "status", Verb: "PATCH"}: float64(tasks.patches.Load()),
	}
	diff, err := after.minus(before)
	if err != nil {
		return res, err
	}
	res.ServerWrites, res.WriteTime, res.Conflicts = diff.requests.writes(), diff.meanWriteLatency(tektonKinds...), diff.conflicts
	if res.Requests, err = diff.requests.subtract(own); err != nil {
		return res, err
	}
	p.log.Info("peer workload done", "name", name, "steps/s", fmt.Sprintf("%.1f", res.PerSec),
		"writes/step", fmt.Sprintf("%.2f", res.perCommand(tektonKinds...)), "events/step", fmt.Sprintf("%.2f", res.perCommand("events")),
		"gate p99", res.Gate.P99, "tail", res.Tail.Round(time.Millisecond), "cpu", res.CPU.String())
	return res, nil
}

// quiet waits until the API server has served no write to Tekton's kinds and no Event for
// still: the controller's tail. Tekton's own metrics are not needed for it.
func (p *peerBench) quiet(ctx context.Context, still, timeout time.Duration) error {
	last, since := -1.0, time.Time{}
	return poll(ctx, timeout, 200*time.Millisecond, "Tekton's controller to go quiet", func() (bool, error) {
		if err := p.ctl.alive(); err != nil {
			return false, err
		}
		m, err := p.cp.apiMetrics(ctx)
		if err != nil {
			return false, err
		}
		if w := m.requests.writes(append([]string{"events"}, tektonKinds...)...); w != last {
			last, since = w, time.Now()
			return false, nil
		}
		return time.Since(since) >= still, nil
	})
}

// settledMemory is the controller's RSS once quiet, the median of three samples a second
// apart, and its Go heap when its metrics publish one.
func (p *peerBench) settledMemory(ctx context.Context) (memory, error) {
	if err := p.quiet(ctx, 2*time.Second, 5*time.Minute); err != nil {
		return memory{}, err
	}
	return medianMemory(ctx, func() (memory, error) {
		rss, err := vmRSS(p.ctl.cmd.Process.Pid)
		if err != nil {
			return memory{}, err
		}
		m := memory{RSS: rss}
		if scraped, err := p.ctl.scrape(ctx); err == nil {
			m.Heap, _ = sumWhere(scraped, "go_memstats_heap_inuse_bytes", nil)
		}
		return m, nil
	})
}

// measurePeer measures Tekton's controller on a fresh control plane with baton's CRDs
// (for the ceiling, measured the same way as for a build, before the controller starts)
// and Tekton's, with the same shapes as baton's workload A and one chain. Everything
// started is stopped before it returns.
func measurePeer(ctx context.Context, log logr.Logger, s settings, repo string, rel tektonRelease, scratch string) (res buildResult, err error) {
	res.Build = build{Name: peerTekton, Rev: rel.Version, Tree: repo, Binary: rel.Binary}
	start := time.Now()
	defer func() { res.Took = time.Since(start) }()
	dir := filepath.Join(scratch, peerTekton)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, err
	}
	log = log.WithValues("build", peerTekton)
	crds, err := tektonCRDs(rel.CRDs)
	if err != nil {
		return res, err
	}
	maps, err := tektonConfigMaps(rel.Config)
	if err != nil {
		return res, err
	}
	cp, err := startMeasured(ctx, log, s, &res, repo, dir, crds...)
	if err != nil {
		return res, err
	}
	defer func() {
		if serr := cp.stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the control plane: %w", serr))
		}
	}()
	if err := installTektonConfig(ctx, cp.client, maps); err != nil {
		return res, err
	}
	p := &peerBench{log: log, s: s, cp: cp, rel: rel, dir: dir}
	defer func() {
		if p.ctl == nil {
			return
		}
		if serr := p.ctl.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	if err := p.startController(ctx); err != nil {
		return res, err
	}
	peak := samplePeak(ctx, func() int { return p.cp.pids[roleManager] })
	defer func() { res.PeakRSS = peak.result() }()

	m := &measureRun{ctx: ctx, log: log, res: &res, alive: func() error { return p.ctl.alive() },
		restart: func(ns string) error { return p.restartController(ctx, ns) }}
	record := m.record
	workload := func(name string, sh shape) (workloadResult, bool) {
		return m.workload(name, func() (workloadResult, error) { return p.runWorkload(ctx, name, sh, s.Timeout) })
	}
	idle, err := p.settledMemory(ctx)
	if res.Idle = idle; !record("idle memory", err) {
		return res, p.ctl.alive()
	}
	if s.runs("A") {
		r, ok := workload(workloadA, s.WorkloadA)
		res.Workloads = append(res.Workloads, r)
		if !ok {
			return res, p.ctl.alive()
		}
	}
	if s.runs("chains") {
		n := s.PeerChain
		r, ok := workload(fmt.Sprintf("chain %d", n), shape{Sequences: 1, Steps: n, Width: 1})
		res.Chains = append(res.Chains, r)
		if !ok {
			return res, p.ctl.alive()
		}
	}
	// The controller's memory with every run of the workloads stored (it caches them).
	res.Stored, err = p.settledMemory(ctx)
	record("memory after the workloads", err)
	for _, w := range res.all() {
		res.StoredCount += w.Commands
	}
	return res, nil
}
