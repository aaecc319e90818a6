package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// sample is one series of a scrape, flattened the way the text exposition format writes
// it: a histogram or summary gives name_sum and name_count (its buckets and quantiles are
// not read).
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseSamples parses a scrape in the Prometheus text exposition format (kube-apiserver's
// and the manager's /metrics) with expfmt's parser, keeping only the series whose
// flattened name is in names (all of them when names is empty). A scrape that does not
// parse is an error: its counters would be wrong, not missing.
func parseSamples(r io.Reader, names ...string) ([]sample, error) {
	// expfmt's zero TextParser has no name validation scheme and refuses every name;
	// UTF-8 accepts what any exporter may write (kube-apiserver's names are legacy ones).
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing metrics: %w", err)
	}
	keep := func(name string) bool { return len(names) == 0 || slices.Contains(names, name) }
	var out []sample
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := make(map[string]string, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for _, s := range flatten(name, mf.GetType(), m) {
				if keep(s.name) && !math.IsNaN(s.value) {
					s.labels = labels
					out = append(out, s)
				}
			}
		}
	}
	// Families come from a map: the order is made stable for the callers and tests.
	slices.SortStableFunc(out, func(a, b sample) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// flatten is a metric's series as the text format names them; labels are set by the caller.
func flatten(name string, t dto.MetricType, m *dto.Metric) []sample {
	switch t {
	case dto.MetricType_COUNTER:
		return []sample{{name: name, value: m.GetCounter().GetValue()}}
	case dto.MetricType_GAUGE:
		return []sample{{name: name, value: m.GetGauge().GetValue()}}
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		h := m.GetHistogram()
		return []sample{{name: name + "_sum", value: h.GetSampleSum()}, {name: name + "_count", value: float64(h.GetSampleCount())}}
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		return []sample{{name: name + "_sum", value: s.GetSampleSum()}, {name: name + "_count", value: float64(s.GetSampleCount())}}
	default: // untyped
		return []sample{{name: name, value: m.GetUntyped().GetValue()}}
	}
}

// sumWhere adds the values of the samples named name whose labels include every pair in
// match.
func sumWhere(samples []sample, name string, match map[string]string) (float64, bool) {
	var total float64
	found := false
	for _, s := range samples {
		if s.name == name && s.has(match) {
			total += s.value
			found = true
		}
	}
	return total, found
}

// has reports whether the sample's labels include every pair in match.
func (s sample) has(match map[string]string) bool {
	for k, v := range match {
		if s.labels[k] != v {
			return false
		}
	}
	return true
}
