//go:build tools

// Package krew pins kubectl's plugin manager krew and its manifest validator, which
// `make test-dist` builds into bin/ (hack/krew.sh) to validate and install the plugin
// archives `make dist` produces. It is a module of its own so that krew's dependencies
// never enter baton's dependency graph.
package krew

import (
	_ "sigs.k8s.io/krew/cmd/krew"
	_ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
)
