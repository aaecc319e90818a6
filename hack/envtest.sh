#!/usr/bin/env bash
# Builds the control plane used by tests, the demo and the benchmark — kube-apiserver,
# kubectl and etcd — from the Go module proxy (no binary downloads exist here), caches it
# under bin/, and prints the directory holding the three binaries as its last line.
# A second run with the same pinned versions builds nothing.
set -euo pipefail
. "$(dirname "$0")/pinned.sh"
k8s=$(pinned k8s.io/kubernetes "$root/hack/controlplane/go.mod")
etcd=$(pinned go.etcd.io/etcd/server/v3 "$root/hack/etcd/go.mod")
dir="$root/bin/controlplane/kubernetes-$k8s-etcd-$etcd"
mkdir -p "$dir"

if [ ! -x "$dir/kube-apiserver" ] || [ ! -x "$dir/kubectl" ]; then
  echo "building kube-apiserver and kubectl $k8s (a few minutes on a cold machine)" >&2
  pkg=k8s.io/component-base/version
  ldflags="-s -w -X $pkg.gitVersion=$k8s -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(echo "$k8s" | cut -d. -f2) -X $pkg.gitTreeState=clean"
  (cd "$root/hack/controlplane" &&
    go build -trimpath -ldflags "$ldflags" -o "$dir/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver &&
    go build -trimpath -ldflags "$ldflags" -o "$dir/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl)
  mv "$dir/kube-apiserver.tmp" "$dir/kube-apiserver"
  mv "$dir/kubectl.tmp" "$dir/kubectl"
fi

if [ ! -x "$dir/etcd" ]; then
  echo "building etcd $etcd" >&2
  (cd "$root/hack/etcd" && go build -trimpath -ldflags "-s -w" -o "$dir/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$dir/etcd.tmp" "$dir/etcd"
fi

echo "$dir"
