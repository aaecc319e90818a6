package faults_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// controller-runtime's defaults, which bin/manager keeps.
const leaseDuration, retryPeriod = 15 * time.Second, 2 * time.Second

var _ = Describe("two managers with leader election", func() {
	It("hand the work over when the leader is killed, within the lease duration, running nothing twice", func() {
		const sequences, late, steps = 30, 10, 3
		ns := newNamespace()
		e := newEndpoint(time.Second)
		args := []string{"--leader-elect", "--leader-election-namespace=" + ns, "--max-concurrent-steps=32"}
		leader := startManager("baton-a", ns, args...)
		Eventually(func() string { return leaseHolder(ns) }, time.Minute).ShouldNot(BeEmpty())
		holder := leaseHolder(ns)
		standby := startManager("baton-b", ns, args...)
		names := submitSequences(ns, e, 0, sequences, steps)

		By("killing the leader while its requests are in flight")
		Eventually(func() bool {
			phases := inPhase(ns)
			return phases[batonv1.CommandSucceeded] >= 20 && phases[batonv1.CommandRunning] >= 10
		}, time.Minute).Should(BeTrue())
		leader.kill()
		killed := time.Now()
		var running []string
		for name, cmd := range settledCommands(ns) {
			Expect(cmd.Status.Executer).To(BeElementOf("", "baton-a"), "only the leader works")
			if cmd.Status.Phase == batonv1.CommandRunning {
				running = append(running, name)
			}
		}

		By("submitting more work while no manager leads")
		lateNames := submitSequences(ns, e, sequences, late, steps)
		names = append(names, lateNames...)

		Eventually(func() string { return leaseHolder(ns) }, 2*leaseDuration).ShouldNot(Equal(holder))
		takeover := time.Since(killed)
		// The lease expires leaseDuration after its last renewal (at most a retry period
		// before the kill); the standby tries every retry period, jittered by up to 20%.
		Expect(takeover).To(BeNumerically("<", leaseDuration+3*retryPeriod),
			"the standby takes the lease once it expires")
		Eventually(func() int { return finishedSequences(ns) }, 2*time.Minute).Should(Equal(sequences + late))
		finished := time.Since(killed)
		Expect(standby.running()).To(BeTrue())

		phases := expectRunAtMostOnce(ns, e, names)
		cmds := commands(ns)
		expectOnlyRunningLost(cmds, running, "baton-a")
		byB := 0
		for _, cmd := range cmds {
			if cmd.Status.Executer == "baton-b" {
				byB++
				Expect(cmd.Status.Phase).To(Equal(batonv1.CommandSucceeded), cmd.Name)
			}
		}
		for _, name := range lateNames {
			Expect(cmds[name].Status.Executer).To(Equal("baton-b"), "the new leader ran %s", name)
		}
		figures := fmt.Sprintf("%d sequences of %d http steps, %d more submitted after the kill; leader killed with %d running; "+
			"standby took the lease %s after the kill (lease %s) and finished all %s after it, running %d steps; outcome %v; %d requests, none twice",
			sequences, steps, late, len(running), takeover.Round(time.Millisecond), leaseDuration, finished.Round(time.Millisecond),
			byB, phases, e.requests())
		By(figures)
		AddReportEntry("leader killed", figures)
	})
})

// leaseHolder is the holder of the one lease in ns, "" while there is none.
func leaseHolder(ns string) string {
	var leases coordinationv1.LeaseList
	Expect(k8s.List(suiteCtx, &leases, client.InNamespace(ns))).To(Succeed())
	Expect(len(leases.Items)).To(BeNumerically("<=", 1), "managers of one scope share one lease")
	if len(leases.Items) == 0 || leases.Items[0].Spec.HolderIdentity == nil {
		return ""
	}
	return *leases.Items[0].Spec.HolderIdentity
}
