package faults_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/equality"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

var _ = Describe("a manager killed with SIGKILL", func() {
	It("finishes every sequence after a restart, sends no step twice and loses no result", func() {
		const sequences, steps = 50, 3
		ns := newNamespace()
		e := newEndpoint(time.Second)
		first := startManager("baton-1", ns, "--max-concurrent-steps=32")
		names := submitSequences(ns, e, 0, sequences, steps)

		By("killing it while requests are in flight")
		Eventually(func() bool {
			phases := inPhase(ns)
			return phases[batonv1.CommandSucceeded] >= 30 && phases[batonv1.CommandRunning] >= 20
		}, time.Minute).Should(BeTrue())
		first.kill()
		// What the API server holds once the dead manager's last requests landed is
		// everything it recorded.
		recorded := map[string]batonv1.OperatorCommandStatus{}
		var running []string
		for name, cmd := range settledCommands(ns) {
			switch cmd.Status.Phase {
			case batonv1.CommandSucceeded:
				recorded[name] = cmd.Status
			case batonv1.CommandRunning:
				running = append(running, name)
			}
		}
		sentBefore := e.requests()

		By("starting a new manager")
		restarted := time.Now()
		startManager("baton-2", ns, "--max-concurrent-steps=32")
		Eventually(func() int { return finishedSequences(ns) }, 2*time.Minute).Should(Equal(sequences))
		recovery := time.Since(restarted)

		phases := expectRunAtMostOnce(ns, e, names)
		cmds := commands(ns)
		for name, st := range recorded {
			Expect(equality.Semantic.DeepEqual(cmds[name].Status, st)).To(BeTrue(),
				"the status of %s recorded before the kill is kept:\nbefore %+v\nafter  %+v", name, st, cmds[name].Status)
		}
		expectOnlyRunningLost(cmds, running, "baton-1")
		figures := fmt.Sprintf("%d sequences of %d http steps; killed with %d succeeded, %d running, %d requests sent; "+
			"recovered in %s; outcome %v; %d requests in all, none twice; recorded results lost: 0 of %d",
			sequences, steps, len(recorded), len(running), sentBefore, recovery.Round(time.Millisecond), phases,
			e.requests(), len(recorded))
		By(figures)
		AddReportEntry("SIGKILL", figures)
	})
})
