// Command bench measures the baton manager from outside, as it ships: for the baseline
// revision and the current tree, one after the other in one run, it starts a fresh
// control plane, measures the API server's ceiling, runs the manager binary as a
// subprocess through fixed workloads, counts its requests at the API server and prints
// a markdown table. BENCHMARKS.md says how to read it; `make bench` runs it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := zap.New(zap.WriteTo(os.Stderr))
	ctrl.SetLogger(log) // controller-runtime's envtest and clients log through it
	s, err := loadSettings()
	if err == nil {
		err = run(ctx, log, s, os.Stdout)
	}
	if err != nil {
		log.Error(err, "bench failed")
		stop()
		os.Exit(1)
	}
}
