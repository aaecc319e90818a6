// The prometheus-operator whose ServiceMonitor CRD (example/prometheus-operator-crd in its
// module) test/chart validates the chart's ServiceMonitor against. A module of its own, with
// no code: `go mod download -json github.com/prometheus-operator/prometheus-operator` run
// here finds that version, and it stays out of the build of helm (../go.mod).
module github.com/batonhq/baton/hack/helm/servicemonitor

go 1.26.0

require github.com/prometheus-operator/prometheus-operator v0.85.0
