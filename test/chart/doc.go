// Package chart tests the Helm chart charts/baton with the helm that hack/helm.sh builds,
// behind the build tag chart (make test-chart): helm lint and values.schema.json; the CRD
// templates equal to config/crd/bases; every manager value rendered as a flag bin/manager
// parses; a server-side dry run of every object the chart renders with every option on,
// its ServiceMonitor checked against prometheus-operator's CRD; the README's install
// command over the OperatorCommand CRD a stand-in for Kubescape's chart created from its
// crds/ directory; an upgrade; an uninstall that keeps the CRDs and the commands; and
// bin/manager run with the arguments the installed Deployment renders, completing a
// sequence with an external step.
package chart
