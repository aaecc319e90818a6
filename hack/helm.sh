#!/usr/bin/env bash
# Builds helm from the Go module proxy (no binary downloads exist here) at the version pinned
# in hack/helm/go.mod, caches it under bin/helm-<version>/, and prints the binary's path as
# its last line. A second run with the same pinned version builds nothing.
set -euo pipefail
. "$(dirname "$0")/pinned.sh"
version=$(pinned helm.sh/helm/v4 "$root/hack/helm/go.mod")
dir="$root/bin/helm-$version"
mkdir -p "$dir"

if [ ! -x "$dir/helm" ]; then
  echo "building helm $version (a few minutes on a cold machine)" >&2
  # helm's default Kubernetes version (helm template, helm lint) comes from the client-go it
  # is built with (hack/helm/go.mod), read from its build information.
  (cd "$root/hack/helm" &&
    go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$version -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
      -o "$dir/helm.tmp" helm.sh/helm/v4/cmd/helm)
  mv "$dir/helm.tmp" "$dir/helm"
fi

echo "$dir/helm"
