#!/usr/bin/env bash
# Builds Tekton Pipelines' controller from the Go module proxy (no binary or image downloads
# exist here) at the version pinned in hack/tekton/go.mod, caches it under
# bin/tekton-<version>/, and prints three lines: the controller binary, the directory of its
# CRDs (config/300-crds) and its config/ directory, both in the module cache. The bench's
# peer (BENCH_PEER=tekton) reads them. A second run with the same pinned version builds nothing.
set -euo pipefail
. "$(dirname "$0")/pinned.sh"
version=$(pinned github.com/tektoncd/pipeline "$root/hack/tekton/go.mod")
dir="$root/bin/tekton-$version"
mkdir -p "$dir"

if [ ! -x "$dir/controller" ]; then
  echo "building Tekton Pipelines' controller $version (several minutes on a cold machine)" >&2
  (cd "$root/hack/tekton" &&
    nice go build -trimpath -ldflags "-s -w" -o "$dir/controller.tmp" github.com/tektoncd/pipeline/cmd/controller)
  mv "$dir/controller.tmp" "$dir/controller"
fi

# The module's files: go mod download is a no-op once the build above has fetched them.
module=$(cd "$root/hack/tekton" && go mod download -json "github.com/tektoncd/pipeline@$version" |
  awk -F'"' '$2 == "Dir" { print $4; exit }')
if [ ! -d "$module/config/300-crds" ]; then
  echo "tekton.sh: no config/300-crds in $module" >&2
  exit 1
fi
echo "$dir/controller"
echo "$module/config/300-crds"
echo "$module/config"
