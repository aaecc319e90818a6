package controllers

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

func TestWriteLabels(t *testing.T) {
	cases := map[string]struct {
		method, path   string
		resource, verb string // verb "" for a request that is not counted
	}{
		"status patch": {
			method: http.MethodPatch, path: "/apis/kubescape.io/v1alpha1/namespaces/ns/operatorcommands/seq-1/status",
			resource: "operatorcommands/status", verb: "patch",
		},
		"create in a namespace": {
			method: http.MethodPost, path: "/apis/kubescape.io/v1alpha1/namespaces/ns/commandsequences",
			resource: "commandsequences", verb: "create",
		},
		"core event": {
			method: http.MethodPost, path: "/api/v1/namespaces/ns/events",
			resource: "events", verb: "create",
		},
		"events.k8s.io event patch": {
			method: http.MethodPatch, path: "/apis/events.k8s.io/v1/namespaces/ns/events/seq.17f",
			resource: "events", verb: "patch",
		},
		"lease update": {
			method: http.MethodPut, path: "/apis/coordination.k8s.io/v1/namespaces/baton-system/leases/baton.kubescape.io",
			resource: "leases", verb: "update",
		},
		"delete one": {
			method: http.MethodDelete, path: "/apis/kubescape.io/v1alpha1/namespaces/ns/operatorcommands/a",
			resource: "operatorcommands", verb: "delete",
		},
		"delete a collection": {
			method: http.MethodDelete, path: "/apis/kubescape.io/v1alpha1/namespaces/ns/operatorcommands",
			resource: "operatorcommands", verb: "deletecollection",
		},
		"cluster-scoped": {
			method: http.MethodPost, path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
			resource: "selfsubjectaccessreviews", verb: "create",
		},
		"a namespace": {
			method: http.MethodDelete, path: "/api/v1/namespaces/ns",
			resource: "namespaces", verb: "delete",
		},
		"a namespace's finalize": {
			method: http.MethodPut, path: "/api/v1/namespaces/ns/finalize",
			resource: "namespaces/finalize", verb: "update",
		},
		"a namespace's status": {
			method: http.MethodPut, path: "/api/v1/namespaces/ns/status",
			resource: "namespaces/status", verb: "update",
		},
		"outside the API": {
			method: http.MethodPost, path: "/version",
			resource: "other", verb: "create",
		},
		"a read":  {method: http.MethodGet, path: "/api/v1/namespaces/ns/events"},
		"a watch": {method: http.MethodGet, path: "/apis/kubescape.io/v1alpha1/operatorcommands"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			verb, ok := writeVerb(tc.method, tc.path)
			if ok != (tc.verb != "") || verb != tc.verb {
				t.Fatalf("writeVerb(%s, %s) = %q, %v; want %q", tc.method, tc.path, verb, ok, tc.verb)
			}
			if !ok {
				return
			}
			if got := apiResource(tc.path); got != tc.resource {
				t.Errorf("apiResource(%s) = %q, want %q", tc.path, got, tc.resource)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// TestCountWrites: a write is counted once with the code it got, a failed one with
// <error>, and a read not at all.
func TestCountWrites(t *testing.T) {
	const path = "/apis/kubescape.io/v1alpha1/namespaces/ns/operatorcommands/x/status"
	code := http.StatusConflict
	var fail error
	rt := CountWrites(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if fail != nil {
			return nil, fail
		}
		return &http.Response{StatusCode: code, Body: http.NoBody, Request: req}, nil
	}))
	send := func(method string) {
		t.Helper()
		resp, err := rt.RoundTrip(httptest.NewRequest(method, "https://apiserver"+path, nil))
		if err == nil {
			resp.Body.Close()
		} else if !errors.Is(err, fail) {
			t.Fatalf("round trip: %v", err)
		}
	}
	count := func(verb, code string) float64 {
		t.Helper()
		return writesCounted(t, map[string]string{"resource": "operatorcommands/status", "verb": verb, "code": code})
	}
	conflicts, okays, failures, reads := count("patch", "409"), count("patch", "200"), count("patch", "<error>"), count("get", "200")

	send(http.MethodPatch)
	code = http.StatusOK
	send(http.MethodPatch)
	send(http.MethodGet)
	fail = errors.New("connection refused")
	send(http.MethodPatch)

	for _, c := range []struct {
		code        string
		before, add float64
	}{{"409", conflicts, 1}, {"200", okays, 1}, {"<error>", failures, 1}} {
		if got := count("patch", c.code); got != c.before+c.add {
			t.Errorf("patch %s counted %v times, want %v", c.code, got-c.before, c.add)
		}
	}
	if got := count("get", "200"); got != reads {
		t.Errorf("a read was counted: %v", got-reads)
	}
}

// writesCounted reads baton_api_writes_total with these labels from the registry the
// manager serves.
func writesCounted(t *testing.T, labels map[string]string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != "baton_api_writes_total" {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			pairs := m.GetLabel()
			if len(pairs) != len(labels) {
				continue
			}
			for _, l := range pairs {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
