package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestSequencePhaseGauges(t *testing.T) {
	var phases units
	a, b, c := unit{namespace: "ns", index: "seq-a"}, unit{namespace: "ns", index: "seq-b"}, unit{namespace: "other", index: "seq-a"}
	standalone := unit{namespace: "ns", index: "cmd-x", standalone: true}

	gauges := func() map[string]float64 {
		out := map[string]float64{"active": gaugeValue(t, activeSequences)}
		for _, p := range []batonv1.SequencePhase{batonv1.SequenceAssembling, batonv1.SequenceRunning, batonv1.SequenceSucceeded, batonv1.SequenceFailed} {
			out[string(p)] = gaugeValue(t, sequencesByPhase.WithLabelValues(string(p)))
		}
		return out
	}
	steps := []struct {
		name  string
		mark  func()
		gauge map[string]float64
	}{
		{"three sequences arrive", func() {
			phases.setPhase(a, batonv1.SequenceAssembling)
			phases.setPhase(b, batonv1.SequenceRunning)
			phases.setPhase(c, batonv1.SequenceRunning)
			phases.setPhase(standalone, batonv1.SequenceRunning) // not a sequence: not counted
		}, map[string]float64{"active": 3, "Assembling": 1, "Running": 2, "Succeeded": 0, "Failed": 0}},
		{"one moves on, one finishes, one fails", func() {
			phases.setPhase(a, batonv1.SequenceRunning)
			phases.setPhase(b, batonv1.SequenceSucceeded)
			phases.setPhase(c, batonv1.SequenceFailed)
		}, map[string]float64{"active": 1, "Assembling": 0, "Running": 1, "Succeeded": 1, "Failed": 1}},
		{"a finished one is deleted, one is seen again", func() {
			phases.setPhase(b, "")
			phases.setPhase(a, batonv1.SequenceRunning)
		}, map[string]float64{"active": 1, "Assembling": 0, "Running": 1, "Succeeded": 0, "Failed": 1}},
		{"all gone", func() {
			phases.setPhase(a, "")
			phases.setPhase(c, "")
			phases.setPhase(c, "")
		}, map[string]float64{"active": 0, "Assembling": 0, "Running": 0, "Succeeded": 0, "Failed": 0}},
	}
	for _, step := range steps {
		step.mark()
		if diff := cmp.Diff(step.gauge, gauges()); diff != "" {
			t.Fatalf("%s: gauges (-want +got):\n%s", step.name, diff)
		}
	}
}

func gaugeValue(t *testing.T, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}
