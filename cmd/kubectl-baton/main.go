// Command kubectl-baton is the kubectl plugin for baton sequences: get, describe, report,
// watch, submit, cancel and retry (DESIGN.md section 5). It takes kubectl's connection
// flags (--kubeconfig, --context, -n, ...) through k8s.io/cli-runtime.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError ends the plugin with a code of its own and, when msg is set, a message:
// `watch` of a Failed sequence exits 1 after printing its progress.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run runs the plugin with args and returns its exit code: 0 on success, 1 on an error or
// a Failed sequence (watch, submit --wait), 2 on a usage error, 130 when interrupted.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	switch {
	case ctx.Err() != nil:
		// Interrupted (Ctrl-C): the shell's convention for SIGINT.
		return 130
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(stderr, "error:", ee.msg)
		}
		return ee.code
	case isUsageError(err):
		fmt.Fprintf(stderr, "error: %v\nSee 'kubectl baton --help'.\n", err)
		return 2
	default:
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
}

type usageError struct{ error }

func isUsageError(err error) bool {
	var ue usageError
	return errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") ||
		strings.HasPrefix(err.Error(), "unknown flag") || strings.HasPrefix(err.Error(), "unknown shorthand flag")
}
