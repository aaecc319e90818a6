package controllers

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
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

// setPhase records the phase of u's sequence, as the reconcile decided it; "" when it is
// gone. It keeps baton_sequences and baton_active_sequences level-based: right whatever
// order events came in, and moved by the difference from the phase recorded before, so a
// reconcile costs the same however many sequences there are.
func (s *units) setPhase(u unit, phase batonv1.SequencePhase) {
	if u.standalone {
		return // a standalone command is not a sequence
	}
	s.with(u, func(st *unitState) { s.countPhase(st, phase) })
}

// countPhase moves st's phase to phase and the gauges with it; the caller holds s.mu.
func (s *units) countPhase(st *unitState, phase batonv1.SequencePhase) {
	if s.sequences == nil {
		s.sequences = map[batonv1.SequencePhase]int{}
		for _, p := range engine.SequencePhases() {
			sequencesByPhase.WithLabelValues(string(p)).Set(0)
		}
	}
	if st.phase == phase {
		return
	}
	s.addPhase(st.phase, -1)
	s.addPhase(phase, +1)
	st.phase = phase
	activeSequences.Set(float64(s.sequences[batonv1.SequenceAssembling] + s.sequences[batonv1.SequenceRunning]))
}

// addPhase moves the count of phase ("" for none) by n, and its gauge with it.
func (s *units) addPhase(phase batonv1.SequencePhase, n int) {
	if phase == "" {
		return
	}
	s.sequences[phase] += n
	sequencesByPhase.WithLabelValues(string(phase)).Set(float64(s.sequences[phase]))
}
