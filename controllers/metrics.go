package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
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

	sequencesByPhase = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "baton_sequences",
		Help: "Sequences in this manager's scope, by phase (finished ones until they are deleted).",
	}, []string{"phase"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(commandsTotal, stepDuration, gateLatency, abandonedHandlers, activeSequences, sequencesByPhase)
}

// phaseSet keeps baton_sequences and baton_active_sequences level-based: each reconcile
// says its sequence's phase, or that it is gone, so the gauges are right whatever order
// events came in. Counts move by the difference from the phase recorded before, so a
// reconcile costs the same however many sequences there are.
type phaseSet struct {
	mu     sync.Mutex
	phases map[string]batonv1.SequencePhase
	counts map[batonv1.SequencePhase]int
}

// mark records the phase of u's sequence; "" forgets it (the sequence is gone).
func (a *phaseSet) mark(u unit, phase batonv1.SequencePhase) {
	if u.standalone {
		return // a standalone command is not a sequence
	}
	key := u.id()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.phases == nil {
		a.phases, a.counts = map[string]batonv1.SequencePhase{}, map[batonv1.SequencePhase]int{}
		for _, p := range []batonv1.SequencePhase{batonv1.SequenceAssembling, batonv1.SequenceRunning, batonv1.SequenceSucceeded, batonv1.SequenceFailed} {
			sequencesByPhase.WithLabelValues(string(p)).Set(0)
		}
	}
	old := a.phases[key]
	if old == phase {
		return
	}
	if phase == "" {
		delete(a.phases, key)
	} else {
		a.phases[key] = phase
	}
	a.add(old, -1)
	a.add(phase, +1)
	activeSequences.Set(float64(a.counts[batonv1.SequenceAssembling] + a.counts[batonv1.SequenceRunning]))
}

// add moves the count of phase ("" for none) by n, and its gauge with it.
func (a *phaseSet) add(phase batonv1.SequencePhase, n int) {
	if phase == "" {
		return
	}
	a.counts[phase] += n
	sequencesByPhase.WithLabelValues(string(phase)).Set(float64(a.counts[phase]))
}
