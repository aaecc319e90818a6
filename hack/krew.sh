#!/usr/bin/env bash
# Builds kubectl's plugin manager krew and krew's manifest validator validate-krew-manifest
# from the Go module proxy at the version pinned in hack/krew/go.mod (no binary downloads
# exist here), caches them under bin/, and prints the directory holding the two binaries
# as its last line. A second run with the same pinned version builds nothing.
set -euo pipefail
. "$(dirname "$0")/pinned.sh"
version=$(pinned sigs.k8s.io/krew "$root/hack/krew/go.mod")
dir="$root/bin/krew-$version"
mkdir -p "$dir"

for cmd in krew validate-krew-manifest; do
  if [ ! -x "$dir/$cmd" ]; then
    echo "building $cmd $version" >&2
    # krew reports the stamped tag in `krew version`; the tests set KREW_NO_UPGRADE_CHECK.
    (cd "$root/hack/krew" &&
      go build -trimpath -ldflags "-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$version" \
        -o "$dir/$cmd.tmp" "sigs.k8s.io/krew/cmd/$cmd")
    mv "$dir/$cmd.tmp" "$dir/$cmd"
  fi
done

echo "$dir"
