package faults_test

import (
	"fmt"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

var _ = Describe("the API server stopped under a running manager", func() {
	It("is survived without a restart: results that could not be written are written later, none lost", func() {
		const sequences, steps, outage = 20, 2, 10 * time.Second
		ns := newNamespace()
		e := newEndpoint(2 * time.Second)
		m := startManager("baton-1", ns, "--max-concurrent-steps=32")
		names := submitSequences(ns, e, 0, sequences, steps)

		By("stopping kube-apiserver while steps are in flight; etcd keeps running")
		Eventually(e.requests, time.Minute).Should(BeNumerically(">=", sequences/2))
		apiServer := env.ControlPlane.GetAPIServer()
		down := true
		// If the spec fails while it is down, the next specs still need it.
		DeferCleanup(func() {
			if down {
				Expect(apiServer.Start()).To(Succeed())
			}
		})
		// SIGTERM, then SIGKILL if it has not exited within 5 s: kube-apiserver's graceful
		// shutdown can outlast the whole outage while a client keeps it busy.
		stopTimeout := apiServer.StopTimeout
		apiServer.StopTimeout = 5 * time.Second
		stopErr := apiServer.Stop()
		apiServer.StopTimeout = stopTimeout
		if stopErr != nil {
			Expect(stopErr.Error()).To(ContainSubstring("timeout waiting for process kube-apiserver to stop"), "then killed")
		}
		address := apiServer.SecureServing.Address + ":" + apiServer.SecureServing.Port
		Eventually(func() error {
			conn, err := net.DialTimeout("tcp", address, time.Second)
			if err == nil {
				conn.Close()
			}
			return err
		}, 30*time.Second).Should(HaveOccurred(), "nothing listens on %s", address)
		stopped := time.Now()
		inFlight := e.requests()
		time.Sleep(outage)
		Expect(apiServer.Start()).To(Succeed())
		down = false
		restarted := time.Now()
		Expect(apiServer.SecureServing.Address+":"+apiServer.SecureServing.Port).To(Equal(address), "the same port")
		By(fmt.Sprintf("kube-apiserver refused connections for %s (stopped gracefully: %t), %d requests sent before",
			restarted.Sub(stopped).Round(time.Millisecond), stopErr == nil, inFlight))

		Eventually(func() int { return finishedSequences(ns) }, 2*time.Minute).Should(Equal(sequences))
		recovery := time.Since(restarted)
		Expect(m.running()).To(BeTrue(), "the manager never exited")

		phases := expectRunAtMostOnce(ns, e, names)
		Expect(phases).To(Equal(map[batonv1.CommandPhase]int{batonv1.CommandSucceeded: sequences * steps}),
			"a result that could not be written while the API server was down is written once it is back: no ExecutorLost")
		for _, cmd := range commands(ns) {
			Expect(cmd.Status.Executer).To(Equal("baton-1"))
			Expect(cmd.Status.Attempts).To(Equal(int32(1)))
		}
		figures := fmt.Sprintf("%d sequences of %d http steps; API server down %s with %d requests sent; "+
			"all finished %s after it came back, manager pid %d never exited; outcome %v; %d requests, none twice",
			sequences, steps, restarted.Sub(stopped).Round(time.Millisecond), inFlight, recovery.Round(time.Millisecond),
			m.cmd.Process.Pid, phases, e.requests())
		By(figures)
		AddReportEntry("API server restart", figures)
	})
})
