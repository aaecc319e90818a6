package main

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
)

// workloadResult is what one workload measured.
type workloadResult struct {
	Name      string
	Namespace string
	Kinds     []string // the controller's kinds: baton's, or the peer's; Events are counted apart
	Shape     shape
	External  bool
	Commands  int
	Elapsed   time.Duration // first create sent → last command seen completed
	Run       time.Duration // first command seen claimed or gated → last seen completed
	PerSec    float64
	Requests  requestCounts // the manager's requests (the bench's own subtracted)
	Gate      latencies     // every gate
	// GateAfter are the gates opened after the last create: the manager's own latency
	// under load, without the bench's burst of creates on the same API server.
	GateAfter latencies
	Creating  time.Duration // first create sent → last create answered
	Durations latencies     // each sequence's first claim or gate → its last completion
	Missing   int           // members whose opening the watch never saw
	Tail      time.Duration // last command completed → manager quiet (reports, progress)
	SeqBytes  int           // largest CommandSequence seen, JSON bytes
	// Why it ran at the rate it did, over the same window as Requests: how busy the
	// machine's cores were, the writes the API server served (every client's), its mean
	// time to serve one to baton's kinds, and the manager's requests answered 409
	// Conflict, by kind and verb.
	CPU          cpuShare
	ServerWrites float64
	WriteTime    time.Duration
	Conflicts    requestCounts
	Queue        queueTimes // the manager's workqueue, from controller-runtime's metrics
	Failed       bool       // the measure failed: none of it is reported
}

// writesPerCommand is the controller's writes to its own kinds per command (per step, for
// the peer).
func (w workloadResult) writesPerCommand() float64 { return w.perCommand(w.Kinds...) }

// perCommand divides the writes to resources by the commands run.
func (w workloadResult) perCommand(resources ...string) float64 {
	if w.Commands == 0 {
		return 0
	}
	return w.Requests.writes(resources...) / float64(w.Commands)
}

// workloadA is the headline workload.
const workloadA = "A in-process"

// ourKinds are baton's own kinds; Events are counted apart.
var ourKinds = []string{"operatorcommands", "commandsequences"}

// bench is one build's measuring session: its control plane and its manager.
type bench struct {
	log      logr.Logger
	s        settings
	cp       *controlPlane
	mgr      *manager
	build    build
	dir      string // scratch directory: the manager's log
	prof     profiler
	nsSerial int
}

// runWorkload creates sh's sequences in a new namespace at once, waits for every command
// to complete and every sequence to end, then for the manager to go quiet, and counts
// the manager's requests at the API server over the whole window.
func (b *bench) runWorkload(ctx context.Context, name string, sh shape, external bool) (workloadResult, error) {
	res := workloadResult{Name: name, Shape: sh, External: external, Commands: sh.commands(), Kinds: ourKinds}
	b.nsSerial++
	ns := fmt.Sprintf("bench-%d-%s", b.nsSerial, sanitize(name))
	res.Namespace = ns
	if err := ensureNamespace(ctx, b.cp.client, ns); err != nil {
		return res, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	obs, err := observe(wctx, b.log, b.cp.client, ns)
	if err != nil {
		return res, err
	}
	commandType := inProcessType
	var exec *executor
	if external {
		commandType = externalType
		if exec, err = startExecutor(wctx, b.log, b.cp.client, ns, b.s.ExecWorker); err != nil {
			return res, err
		}
	}
	seqs := sequences(ns, "s", sh, commandType)
	alive := func() error {
		if exec != nil {
			if err := exec.failed(); err != nil {
				return err
			}
		}
		return b.mgr.alive()
	}

	before, err := b.cp.apiMetrics(ctx)
	if err != nil {
		return res, err
	}
	b.log.Info("workload", "name", name, "shape", sh.String(), "namespace", ns)
	queueStart, err := b.mgr.queueTimes(ctx)
	if err != nil {
		return res, err
	}
	start, cpuStart := time.Now(), readCPU(b.cp.pids)
	created, err := createAll(ctx, b.cp.client, b.s.Workers, seqs)
	if err != nil {
		return res, err
	}
	createdAt := time.Now()
	res.Creating = createdAt.Sub(start)
	// From the last create: a long chain's first seconds are its creation, not its steps.
	profiled := b.prof.cpu(wctx, name, 10*time.Second)
	if err := obs.waitDone(ctx, res.Commands, sh.Sequences, b.s.Timeout, alive); err != nil {
		return res, fmt.Errorf("workload %s: %w", name, err)
	}
	last := res.timings(obs.snapshot(), start, createdAt, external)
	if err := b.mgr.quiet(ctx, time.Second, time.Minute); err != nil {
		return res, err
	}
	res.Tail = time.Since(last)
	res.SeqBytes, _ = obs.largestSequence()
	res.CPU = readCPU(b.cp.pids).since(cpuStart)
	queueEnd, err := b.mgr.queueTimes(ctx)
	if err != nil {
		return res, err
	}
	res.Queue = queueEnd.minus(queueStart)
	after, err := b.cp.apiMetrics(ctx)
	if err != nil {
		return res, err
	}
	if err := <-profiled; err != nil {
		b.log.Error(err, "profiling the manager", "workload", name)
	}
	cancel()
	own := requestCounts{{Resource: "operatorcommands", Verb: "CREATE"}: float64(created)}
	if exec != nil {
		if err := exec.wait(); err != nil {
			return res, err
		}
		own[reqKey{Resource: "operatorcommands", Subresource: "status", Verb: "PATCH"}] = float64(exec.patches.Load())
	}
	diff, err := after.minus(before)
	if err != nil {
		return res, err
	}
	res.ServerWrites, res.WriteTime, res.Conflicts = diff.requests.writes(), diff.meanWriteLatency(ourKinds...), diff.conflicts
	if res.Requests, err = diff.requests.subtract(own); err != nil {
		return res, err
	}
	b.log.Info("workload done", "name", name, "commands/s", fmt.Sprintf("%.1f", res.PerSec),
		"writes/command", fmt.Sprintf("%.2f", res.perCommand(ourKinds...)), "events/command", fmt.Sprintf("%.2f", res.perCommand("events")),
		"gate p99", res.Gate.P99, "tail", res.Tail.Round(time.Millisecond),
		"cpu (API server / etcd / manager / bench / rest)", res.CPU.String(), "mean write", res.WriteTime.Round(time.Millisecond))
	return res, nil
}

// timings sets the workload's times from what the watch saw, the first create sent at
// start and the last answered at createdAt, and returns the last completion seen.
func (w *workloadResult) timings(seen map[string]seen, start, createdAt time.Time, external bool) time.Time {
	var completed, opened []time.Time
	for _, s := range seen {
		completed = append(completed, s.Completed)
		opened = append(opened, s.Started, s.Gated)
	}
	_, last := span(completed...)
	first, _ := span(opened...)
	w.Elapsed, w.Run = last.Sub(start), last.Sub(first)
	gates, missing := gateLatencies(seen, external)
	w.Gate, w.GateAfter, w.Missing = delays(gates, time.Time{}, time.Time{}), delays(gates, createdAt, time.Time{}), missing
	w.Durations = sequenceDurations(seen)
	w.PerSec = float64(w.Commands) / w.Elapsed.Seconds()
	return last
}

// stepTime is a chain's time per step: first member seen claimed → last seen completed,
// over the steps.
func stepTime(w workloadResult) time.Duration {
	if w.Shape.Steps == 0 {
		return 0
	}
	return w.Run / time.Duration(w.Shape.Steps)
}
