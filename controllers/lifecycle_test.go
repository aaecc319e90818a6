package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

var _ = Describe("a manager restarted mid-sequence", func() {
	var (
		ns string
		h  *handlers
	)
	BeforeEach(func() {
		ns = newNamespace()
		h = newHandlers(ns)
	})

	It("re-runs an idempotent step whose executor was lost, and runs no step twice at once", func() {
		stop := startManager(testOptions(), h)
		newCommand(ns, "a").In("restart", 0, 3).Create()
		newCommand(ns, "b").In("restart", 1, 3).Type("block-idempotent").Create()
		newCommand(ns, "c").In("restart", 2, 3).Create()
		Eventually(h.startedCount("b"), wait).Should(Equal(1))
		// Claimed at --claim-after: a step stopped before it is no lost executor's.
		Eventually(phaseOf(ns, "b"), wait).Should(Equal(batonv1.CommandRunning))
		stop()

		startManager(testOptions(), h)
		Eventually(func() int { return h.count("b") }, wait).Should(Equal(1), "the first run ended with its manager")
		Eventually(func() int32 { return getCommand(ns, "b").Status.Attempts }, wait).Should(Equal(int32(2)))
		h.unblock("b")

		Eventually(sequencePhase(ns, "restart"), wait).Should(Equal(batonv1.SequenceSucceeded))
		Expect(h.count("a")).To(Equal(1))
		Expect(h.count("c")).To(Equal(1))
		runs := h.invocations("b")
		Expect(runs).To(HaveLen(2))
		Expect(runs[0].ctxErr).To(HaveOccurred())
		Expect(runs[1].start).To(BeTemporally(">=", runs[0].end), "never two runs at once")
	})

	It("fails a non-idempotent step whose executor was lost with ExecutorLost, and skips the rest", func() {
		stop := startManager(testOptions(), h)
		newCommand(ns, "a").In("lost", 0, 3).Create()
		newCommand(ns, "b").In("lost", 1, 3).Type("block").Create()
		newCommand(ns, "c").In("lost", 2, 3).Create()
		Eventually(h.startedCount("b"), wait).Should(Equal(1))
		Expect(phaseOf(ns, "b")()).To(Equal(batonv1.CommandRunning))
		stop()

		startManager(testOptions(), h)
		Eventually(phaseOf(ns, "b"), wait).Should(Equal(batonv1.CommandFailed))
		Expect(getCommand(ns, "b").Status.Error.Reason).To(Equal(batonv1.ReasonExecutorLost))
		Eventually(phaseOf(ns, "c"), wait).Should(Equal(batonv1.CommandSkipped))
		Expect(h.count("a")).To(Equal(1))
		Expect(h.count("b")).To(Equal(1))
		Expect(h.count("c")).To(BeZero())
	})
})

var _ = Describe("--finished-retention", func() {
	It("deletes a finished sequence and its commands after the retention, and nothing else", func() {
		ns := newNamespace()
		h := newHandlers(ns)
		opts := testOptions()
		opts.FinishedRetention = 2 * time.Second
		startManager(opts, h)

		newCommand(ns, "done-0").In("finished", 0, 2).Create()
		newCommand(ns, "done-1").In("finished", 1, 2).Create()
		newCommand(ns, "busy-0").In("unfinished", 0, 2).Type("block").Create()
		newCommand(ns, "busy-1").In("unfinished", 1, 2).Create()
		newCommand(ns, "alone").Create()

		Eventually(sequencePhase(ns, "finished"), wait).Should(Equal(batonv1.SequenceSucceeded))
		finishedAt := getSequence(ns, "finished").Status.CompletedAt.Time
		gone := func(obj client.Object, name string) func() bool {
			return func() bool {
				return apierrors.IsNotFound(k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: name}, obj))
			}
		}
		Eventually(gone(&batonv1.CommandSequence{}, "finished"), wait).Should(BeTrue())
		Expect(time.Now()).To(BeTemporally(">=", finishedAt.Add(2*time.Second)))
		Eventually(gone(&batonv1.OperatorCommand{}, "done-0"), wait).Should(BeTrue())
		Eventually(gone(&batonv1.OperatorCommand{}, "done-1"), wait).Should(BeTrue())

		Eventually(gone(&batonv1.OperatorCommand{}, "alone"), wait).Should(BeTrue(), "a finished standalone command goes too")

		Consistently(gone(&batonv1.CommandSequence{}, "unfinished"), 3*time.Second).Should(BeFalse())
		Expect(getCommand(ns, "busy-0").Status.Phase).To(Equal(batonv1.CommandRunning))
		Expect(getCommand(ns, "busy-1").Status.Phase).To(Equal(batonv1.CommandPending))
	})
})
