//go:build tools

// Package controlplane pins the kube-apiserver and kubectl that tests, the demo and the
// benchmark run against. It is a module of its own so that k8s.io/kubernetes never
// enters baton's dependency graph.
package controlplane

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
