package controllers_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

var _ = Describe("the claim", func() {
	// Two managers watching one namespace without leader election is what DESIGN.md 4
	// forbids (a manager takes a Running command it does not hold for a lost one), so
	// some commands may end ExecutorLost here. What must hold whatever the interleaving
	// is the claim's own promise: the resourceVersion guard lets exactly one claim of a
	// command succeed, so every handler runs exactly once, under the executer the status
	// names. Without the guard both claims land and handlers run twice.
	It("lets exactly one of two racing managers claim each command", func() {
		const commands = 40
		ns := newNamespace()
		ha, hb := newHandlers(ns), newHandlers(ns)
		optsA, optsB := testOptions(), testOptions()
		optsA.Executer, optsB.Executer = "baton-a", "baton-b"
		stopA := startManager(optsA, ha)
		stopB := startManager(optsB, hb)

		names := make([]string, commands)
		for i := range names {
			names[i] = fmt.Sprintf("race-%02d", i)
			newCommand(ns, names[i]).Arg("sleep", "200ms").Create()
		}

		terminal := func() int {
			n := 0
			for _, name := range names {
				if phaseOf(ns, name)().Terminal() {
					n++
				}
			}
			return n
		}
		Eventually(terminal, 2*wait).Should(Equal(commands))
		// A command taken for lost is terminal while the handler of its claim may not have
		// been entered yet: stopping waits for every claimed handler to run.
		stopA()
		stopB()

		lost := 0
		for _, name := range names {
			a, b := ha.startedCount(name)(), hb.startedCount(name)()
			Expect(a+b).To(Equal(1), "command %s ran %d times under baton-a and %d under baton-b", name, a, b)
			ranOn := "baton-a"
			if b == 1 {
				ranOn = "baton-b"
			}
			cmd := getCommand(ns, name)
			Expect(cmd.Status.Executer).To(Equal(ranOn), "command %s names the executer that ran it", name)
			Expect(cmd.Status.Attempts).To(Equal(int32(1)), "command %s was claimed once", name)
			switch cmd.Status.Phase {
			case batonv1.CommandSucceeded:
				Expect(payloadOf(cmd)).To(HaveKeyWithValue("name", name))
			case batonv1.CommandFailed:
				Expect(cmd.Status.Error.Reason).To(Equal(batonv1.ReasonExecutorLost), "command %s", name)
				lost++
			default:
				Fail(fmt.Sprintf("command %s ended %s", name, cmd.Status.Phase))
			}
		}
		AddReportEntry("claims", fmt.Sprintf("%d commands, each run once; %d taken for lost by the other manager", commands, lost))
	})
})
