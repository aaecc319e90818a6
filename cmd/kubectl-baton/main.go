// Command kubectl-baton is the kubectl plugin for baton sequences. For now it prints its
// help and version; get, describe, report and watch come with the operator UX work.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/batonhq/baton/cmd/internal/version"
)

const usage = `kubectl baton — inspect baton sequences

Usage:
  kubectl baton version   print the plugin's version
  kubectl baton help      print this help

Until the plugin's other commands land, plain kubectl shows everything:
  kubectl get cmdseq            sequences with phase, progress and current batch
  kubectl get opcmd             commands with type, sequence, index, count and phase
  kubectl get cmdseq NAME -o yaml   a finished sequence's report
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return 0
	}
	switch args[0] {
	case "version", "--version":
		fmt.Fprintln(stdout, version.Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "kubectl baton: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
