package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics are served on controller-runtime's registry, beside its own reconcile metrics
// (controller_runtime_reconcile_errors_total{controller="sequence"} counts reconcile errors).
var (
	commandsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baton_commands_total",
		Help: "Commands that reached a terminal phase, by command type and outcome (phase).",
	}, []string{"type", "outcome"})

	stepDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "baton_step_duration_seconds",
		Help:    "Run time of one attempt of an in-process handler, by command type.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
	}, []string{"type"})

	gateLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "baton_gate_latency_seconds",
		Help:    "Time from the completion of a batch's last predecessor to the opening of its gate.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
	})

	abandonedHandlers = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "baton_abandoned_handlers_total",
		Help: "In-process handlers that ignored the end of their context (TTL, cancel) and were left running, by command type.",
	}, []string{"type"})

	activeSequences = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "baton_active_sequences",
		Help: "Sequences not yet finished.",
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(commandsTotal, stepDuration, gateLatency, abandonedHandlers, activeSequences)
}

// activeSet keeps baton_active_sequences level-based: each reconcile says whether its
// sequence is active, so the gauge is right whatever order events came in.
type activeSet struct {
	mu  sync.Mutex
	set map[string]struct{}
}

func (a *activeSet) mark(u unit, active bool) {
	if u.standalone {
		return // a standalone command is not a sequence
	}
	key := u.id()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.set == nil {
		a.set = map[string]struct{}{}
	}
	if active {
		a.set[key] = struct{}{}
	} else {
		delete(a.set, key)
	}
	activeSequences.Set(float64(len(a.set)))
}
