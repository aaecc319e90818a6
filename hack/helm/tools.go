//go:build tools

// Package helm pins the helm that `make chart`, `make test-chart` and the README's install
// commands are checked with. hack/helm.sh builds it once into bin/. It is a module of its
// own so helm's dependencies stay out of baton's go.mod.
package helm

import _ "helm.sh/helm/v4/cmd/helm"
