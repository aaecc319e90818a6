//go:build tools

// Package tekton pins Tekton Pipelines' controller for the bench's peer (BENCH_PEER=tekton):
// hack/tekton.sh builds its cmd/controller from this module, and the bench installs the
// CRDs and ConfigMaps of the same module version.
package tekton

import _ "github.com/tektoncd/pipeline/cmd/controller"
