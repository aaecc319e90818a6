// Package dist tests what `make dist` publishes, with the build tag dist (make test-dist):
// krew's own validator accepts the manifest dist/baton.yaml, krew installs every archive
// offline (--manifest --archive, a temporary KREW_ROOT and HOME, no network, no git) with
// the right binary for its platform, and kubectl finds the installed plugin through its
// plugin discovery and runs `kubectl baton --help`.
package dist
