#!/usr/bin/env bash
# Builds helm from the Go module proxy (no binary downloads exist here) at the version pinned
# in hack/helm/go.mod, caches it under bin/helm-<version>/, and prints the binary's path as
# its last line. A second run with the same pinned version builds nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pinned() { awk -v m="$1" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' "$2"; }
version=$(pinned helm.sh/helm/v3 "$root/hack/helm/go.mod")
# helm's default Kubernetes version (helm template, helm lint) is its client-go's, as its own
# Makefile sets it.
k8s=$(pinned k8s.io/client-go "$root/hack/helm/go.mod")
k8s_minor=$(echo "$k8s" | cut -d. -f2)
dir="$root/bin/helm-$version"
mkdir -p "$dir"

if [ ! -x "$dir/helm" ]; then
  echo "building helm $version (a few minutes on a cold machine)" >&2
  h=helm.sh/helm/v3
  ldflags="-s -w -X $h/internal/version.version=$version -X $h/internal/version.gitTreeState=clean"
  ldflags+=" -X $h/pkg/lint/rules.k8sVersionMajor=1 -X $h/pkg/lint/rules.k8sVersionMinor=$k8s_minor"
  ldflags+=" -X $h/pkg/chartutil.k8sVersionMajor=1 -X $h/pkg/chartutil.k8sVersionMinor=$k8s_minor"
  (cd "$root/hack/helm" &&
    go build -trimpath -ldflags "$ldflags" \
      -o "$dir/helm.tmp" helm.sh/helm/v3/cmd/helm)
  mv "$dir/helm.tmp" "$dir/helm"
fi

echo "$dir/helm"
