# Sourced by the hack/ build scripts: root is the repository, and `pinned MODULE GOMOD`
# prints the version GOMOD requires of MODULE, so each tool's go.mod is the one place to
# bump it.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pinned() { awk -v m="$1" '{ for (i = 1; i < NF; i++) if ($i == m) { print $(i + 1); exit } }' "$2"; }
