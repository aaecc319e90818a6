package controllers_test

import (
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// sequenceEvents lists the events regarding the CommandSequence name, in the order they
// were recorded, as "Type Reason: note".
func sequenceEvents(ns, name string) func() []string {
	return func() []string {
		var list eventsv1.EventList
		Expect(k8s.List(suiteCt, &list, client.InNamespace(ns))).To(Succeed())
		var mine []eventsv1.Event
		for _, e := range list.Items {
			if e.Regarding.Kind == "CommandSequence" && e.Regarding.Name == name {
				mine = append(mine, e)
			}
		}
		slices.SortStableFunc(mine, func(a, b eventsv1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })
		var out []string
		for _, e := range mine {
			out = append(out, e.Type+" "+e.Reason+": "+e.Note)
		}
		return out
	}
}

// Events by policy (DESIGN.md 5): with the default, warnings, a command gets only its
// Warnings, and a sequence one Normal event when it starts running and one when it ends.
var _ = Describe("Events with the default policy", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		startManager(testOptions(), newHandlers(ns))
	})

	It("records two Normal events on a sequence that succeeds, Running then Succeeded with the summary, none on its commands", func() {
		for i, name := range []string{"quiet-0", "quiet-1", "quiet-2"} {
			newCommand(ns, name).In("quiet", i, 3).Create()
		}
		Eventually(sequencePhase(ns, "quiet"), wait).Should(Equal(batonv1.SequenceSucceeded))
		Eventually(sequenceEvents(ns, "quiet"), wait).Should(HaveLen(2))
		events := sequenceEvents(ns, "quiet")()
		Expect(events[0]).To(Equal("Normal Running: started: all 3 commands present"))
		Expect(events[1]).To(MatchRegexp(`^Normal Succeeded: 3/3 succeeded in \d+s$`))
		seq := getSequence(ns, "quiet")
		Expect(seq.Status.StartedAt).NotTo(BeNil(), "the final status says when it started, Running seen or not")
		Expect(seq.Status.CurrentBatch).To(HaveValue(Equal(2)))
		Consistently(func() map[string]int { return commandEvents(ns) }, time.Second).Should(BeEmpty())
		Expect(sequenceEvents(ns, "quiet")()).To(HaveLen(2), "no Created event, no second start")
	})

	It("records the Warning on the failing command and the sequence's Normal Failed end event", func() {
		newCommand(ns, "sad-0").In("sad", 0, 3).Create()
		newCommand(ns, "sad-1").In("sad", 1, 3).Type("fail").Create()
		newCommand(ns, "sad-2").In("sad", 2, 3).Create()
		Eventually(sequencePhase(ns, "sad"), wait).Should(Equal(batonv1.SequenceFailed))
		Eventually(sequenceEvents(ns, "sad"), wait).Should(HaveLen(2))
		events := sequenceEvents(ns, "sad")()
		Expect(events[0]).To(Equal("Normal Running: started: all 3 commands present"))
		Expect(events[1]).To(HavePrefix("Normal Failed: command sad-1 failed (" + batonv1.ReasonHandlerFailed + ")"))
		Eventually(eventsFor(ns, "sad-1"), wait).Should(ConsistOf(HavePrefix("Warning " + batonv1.ReasonHandlerFailed)))
		// The skip of sad-2 is a Warning too (PredecessorFailed); sad-0's success is not recorded.
		Eventually(func() map[string]int { return commandEvents(ns) }, wait).Should(Equal(map[string]int{
			batonv1.ReasonHandlerFailed: 1, batonv1.ReasonPredecessorFailed: 1}))
		Consistently(func() map[string]int { return commandEvents(ns) }, time.Second).Should(Equal(map[string]int{
			batonv1.ReasonHandlerFailed: 1, batonv1.ReasonPredecessorFailed: 1}))
	})

	It("shows Running for a sequence that outlasts the progress interval, and records its start once", func() {
		newCommand(ns, "slow-0").In("slow", 0, 2).Arg("sleep", "2s").Create()
		newCommand(ns, "slow-1").In("slow", 1, 2).Create()
		Eventually(sequencePhase(ns, "slow"), wait).Should(Equal(batonv1.SequenceRunning))
		Eventually(sequenceEvents(ns, "slow"), wait).Should(Equal([]string{"Normal Running: started: all 2 commands present"}))
		Eventually(sequencePhase(ns, "slow"), wait).Should(Equal(batonv1.SequenceSucceeded))
		Eventually(sequenceEvents(ns, "slow"), wait).Should(HaveLen(2))
		Expect(sequenceEvents(ns, "slow")()[1]).To(MatchRegexp(`^Normal Succeeded: 2/2 succeeded in \d+s$`))
	})
})
