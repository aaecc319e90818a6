package controllers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// apiWrites counts the manager's mutating requests by resource, the way the API server
// counts what it serves (apiserver_request_total{resource,subresource,verb,code}):
// client-go's rest_client_requests_total has only the method and the host.
var apiWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "baton_api_writes_total",
	Help: "Mutating requests the manager sent to the API server, by resource (with its subresource, as operatorcommands/status), verb (create, update, patch, delete, deletecollection) and status code (<error> when no response came).",
}, []string{"resource", "verb", "code"})

func init() {
	ctrlmetrics.Registry.MustRegister(apiWrites)
}

// CountWrites wraps a client's transport so that each mutating request it sends is counted
// in baton_api_writes_total; reads and watches pass through uncounted. Use it as a
// rest.Config's WrapTransport (cfg.Wrap(controllers.CountWrites)).
func CountWrites(rt http.RoundTripper) http.RoundTripper {
	return writeCounter{next: rt}
}

type writeCounter struct{ next http.RoundTripper }

func (w writeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	verb, ok := writeVerb(req.Method, req.URL.Path)
	if !ok {
		return w.next.RoundTrip(req)
	}
	resp, err := w.next.RoundTrip(req)
	code := "<error>"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	apiWrites.WithLabelValues(apiResource(req.URL.Path), verb, code).Inc()
	return resp, err
}

// writeVerb is the API verb of a mutating request, and false for any other.
func writeVerb(method, path string) (string, bool) {
	switch method {
	case http.MethodPost:
		return "create", true
	case http.MethodPut:
		return "update", true
	case http.MethodPatch:
		return "patch", true
	case http.MethodDelete:
		if _, name, _ := splitResourcePath(path); name == "" {
			return "deletecollection", true
		}
		return "delete", true
	}
	return "", false
}

// apiResource is the resource a request's path names, with its subresource after a slash
// ("operatorcommands/status"), without the group; "other" for a path outside /api and /apis.
// Object names and namespaces are left out, so the label's values stay few.
func apiResource(path string) string {
	resource, _, sub := splitResourcePath(path)
	switch {
	case resource == "":
		return "other"
	case sub != "":
		return resource + "/" + sub
	}
	return resource
}

// splitResourcePath reads /api/v1/[namespaces/NS/]RESOURCE[/NAME[/SUB]] and
// /apis/GROUP/VERSION/[namespaces/NS/]RESOURCE[/NAME[/SUB]]. A namespace itself
// (/api/v1/namespaces/NS, and its status and finalize) is the resource "namespaces", as
// the API server reads it.
func splitResourcePath(path string) (resource, name, sub string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return "", "", ""
	}
	if len(parts) >= 3 && parts[0] == "namespaces" && parts[2] != "status" && parts[2] != "finalize" {
		parts = parts[2:] // a namespaced resource, not the namespace itself or its subresource
	}
	if len(parts) == 0 || parts[0] == "" {
		return "", "", ""
	}
	resource = parts[0]
	if len(parts) > 1 {
		name = parts[1]
	}
	if len(parts) > 2 {
		sub = parts[2]
	}
	return resource, name, sub
}
