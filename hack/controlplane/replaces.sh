#!/usr/bin/env bash
# Prints the replace block for go.mod: every staging module that k8s.io/kubernetes's own
# go.mod points at ./staging/... is replaced by its published release of the same path.
# Usage: hack/controlplane/replaces.sh v1.37.2 > /tmp/replaces; paste into go.mod.
set -euo pipefail
k8s=${1:?kubernetes version, e.g. v1.37.2}
staging=v0.${k8s#v1.}
mod=$(go mod download -json "k8s.io/kubernetes@$k8s" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
echo "replace ("
awk -v v="$staging" '$2 == "=>" && $3 ~ /^\.\/staging\// { printf "\t%s => %s %s\n", $1, $1, v }' "$mod"
echo ")"
