package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// reqKey identifies API requests the way apiserver_request_total labels them.
type reqKey struct {
	Resource    string // plural, e.g. operatorcommands
	Subresource string // "" or status
	Verb        string // CREATE, PATCH, UPDATE, DELETE, GET, LIST, ...
}

func (k reqKey) String() string {
	r := k.Resource
	if k.Subresource != "" {
		r += "/" + k.Subresource
	}
	return r + " " + k.Verb
}

// requestCounts is a set of request counters by kind and verb.
type requestCounts map[reqKey]float64

// requestsFrom groups apiserver_request_total by resource, subresource and verb (every
// group, code and scope added together: events and events.k8s.io Events are both
// "events").
func requestsFrom(samples []sample) requestCounts {
	return countsFrom(samples, "apiserver_request_total", nil)
}

// countsFrom groups the samples named name whose labels include every pair in match by
// resource, subresource and verb.
func countsFrom(samples []sample, name string, match map[string]string) requestCounts {
	out := requestCounts{}
	for _, s := range samples {
		if s.name != name || s.labels["resource"] == "" || !s.has(match) {
			continue
		}
		k := reqKey{Resource: s.labels["resource"], Subresource: s.labels["subresource"], Verb: verbName(s.labels["verb"])}
		out[k] += s.value
	}
	return out
}

// apiMetrics is what one scrape of the API server's /metrics says about requests, as
// counters by kind and verb.
type apiMetrics struct {
	requests  requestCounts // apiserver_request_total
	conflicts requestCounts // the same, answered 409 Conflict
	seconds   requestCounts // apiserver_request_duration_seconds_sum: time spent serving
	served    requestCounts // apiserver_request_duration_seconds_count
}

func apiMetricsFrom(samples []sample) apiMetrics {
	return apiMetrics{
		requests:  requestsFrom(samples),
		conflicts: countsFrom(samples, "apiserver_request_total", map[string]string{"code": "409"}),
		seconds:   countsFrom(samples, "apiserver_request_duration_seconds_sum", nil),
		served:    countsFrom(samples, "apiserver_request_duration_seconds_count", nil),
	}
}

// apiMetricNames are the metrics apiMetricsFrom reads.
var apiMetricNames = []string{"apiserver_request_total", "apiserver_request_duration_seconds_sum", "apiserver_request_duration_seconds_count"}

// minus is the requests made from before to after.
func (after apiMetrics) minus(before apiMetrics) (apiMetrics, error) {
	var out apiMetrics
	var errs [4]error
	out.requests, errs[0] = after.requests.minus(before.requests)
	out.conflicts, errs[1] = after.conflicts.minus(before.conflicts)
	out.seconds, errs[2] = after.seconds.minus(before.seconds)
	out.served, errs[3] = after.served.minus(before.served)
	return out, errors.Join(errs[:]...)
}

// meanWriteLatency is the mean time the API server took to serve a write to resources,
// every client's; 0 when there was none.
func (m apiMetrics) meanWriteLatency(resources ...string) time.Duration {
	return meanSeconds(m.seconds.writes(resources...), m.served.writes(resources...))
}

// minus is after − before; counters only grow, so a negative difference means the API
// server restarted, and is reported as an error.
func (after requestCounts) minus(before requestCounts) (requestCounts, error) {
	out := requestCounts{}
	for k, v := range after {
		d := v - before[k]
		if d < 0 {
			return nil, fmt.Errorf("counter %s went down from %v to %v", k, before[k], v)
		}
		if d > 0 {
			out[k] = d
		}
	}
	return out, nil
}

// subtract removes requests the bench made itself (it counts them exactly); a count that
// would go below zero is clamped and reported, since it means the bench's own accounting
// is wrong.
func (c requestCounts) subtract(own requestCounts) (requestCounts, error) {
	out := maps.Clone(c)
	var errs []string
	for k, v := range own {
		out[k] -= v
		if out[k] < 0 {
			errs = append(errs, fmt.Sprintf("%s: bench counted %v, server %v", k, v, c[k]))
			out[k] = 0
		}
		if out[k] == 0 {
			delete(out, k)
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("the bench's own requests exceed the server's counts: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// verbName turns the metric's verb label (the HTTP method for writes: POST, PUT) into
// the API verb (CREATE, UPDATE); PATCH, APPLY, GET, LIST, WATCH, DELETE and
// DELETECOLLECTION stay as they are.
func verbName(label string) string {
	switch label {
	case "POST":
		return "CREATE"
	case "PUT":
		return "UPDATE"
	}
	return label
}

// isWrite says whether a verb changes state.
func isWrite(verb string) bool {
	switch verb {
	case "CREATE", "UPDATE", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY":
		return true
	}
	return false
}

// writes sums the writes to resources (every subresource); to every resource when none
// is named.
func (c requestCounts) writes(resources ...string) float64 {
	var total float64
	for k, v := range c {
		if isWrite(k.Verb) && (len(resources) == 0 || slices.Contains(resources, k.Resource)) {
			total += v
		}
	}
	return total
}

// sortedKeys lists the keys of resources in a stable order.
func (c requestCounts) sortedKeys(resources ...string) []reqKey {
	var keys []reqKey
	for k := range c {
		if slices.Contains(resources, k.Resource) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b reqKey) int { return strings.Compare(a.String(), b.String()) })
	return keys
}
