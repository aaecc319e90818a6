package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
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
	out := requestCounts{}
	for _, s := range samples {
		if s.name != "apiserver_request_total" || s.labels["resource"] == "" {
			continue
		}
		k := reqKey{Resource: s.labels["resource"], Subresource: s.labels["subresource"], Verb: verbName(s.labels["verb"])}
		out[k] += s.value
	}
	return out
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

// writes sums the writes to resource (every subresource).
func (c requestCounts) writes(resources ...string) float64 {
	var total float64
	for k, v := range c {
		if isWrite(k.Verb) && slices.Contains(resources, k.Resource) {
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
