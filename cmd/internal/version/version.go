// Package version holds the build's version, stamped by the Makefile with -ldflags.
package version

// Version is set at build time: -X github.com/batonhq/baton/cmd/internal/version.Version=...
var Version = "dev"
