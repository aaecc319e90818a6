package localcluster

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// OnSignal runs stops if the process gets SIGINT or SIGTERM, then exits 1: a suite that
// started a control plane, a manager process or a container stops them even when it is
// interrupted (go test's timeout, Ctrl-C), where deferred cleanups never run. Call the
// returned function once they are stopped the normal way.
func OnSignal(stops ...func()) (release func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			for _, stop := range stops {
				stop()
			}
			fmt.Fprintf(os.Stderr, "stopped what the test started, on %v\n", sig)
			os.Exit(1)
		case <-done:
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
