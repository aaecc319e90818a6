package controllers_test

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

const wait = 20 * time.Second

var _ = Describe("a sequence of in-process steps", func() {
	var (
		ns string
		h  *handlers
	)
	BeforeEach(func() {
		ns = newNamespace()
		h = newHandlers(ns)
		startManager(testOptions(), h)
	})

	It("runs batches in index order, a batch's members together, even when created in reverse", func() {
		// Indexes need not start at 0 nor be contiguous; the parallel batch sleeps so
		// its members' runs must overlap.
		newCommand(ns, "c-last").In("rev", 7, 4).Create()
		newCommand(ns, "b-two").In("rev", 3, 4).Arg("sleep", "700ms").Create()
		newCommand(ns, "b-one").In("rev", 3, 4).Arg("sleep", "700ms").Create()
		newCommand(ns, "a-first").In("rev", 1, 4).Create()

		Eventually(sequencePhase(ns, "rev"), wait).Should(Equal(batonv1.SequenceSucceeded))

		first, one, two, last := h.invocations("a-first"), h.invocations("b-one"), h.invocations("b-two"), h.invocations("c-last")
		Expect([][]run{first, one, two, last}).To(HaveEach(HaveLen(1)))
		Expect(one[0].start).To(BeTemporally(">=", first[0].end))
		Expect(two[0].start).To(BeTemporally(">=", first[0].end))
		Expect(one[0].start).To(BeTemporally("<", two[0].end), "the members of a batch run concurrently")
		Expect(two[0].start).To(BeTemporally("<", one[0].end), "the members of a batch run concurrently")
		Expect(last[0].start).To(BeTemporally(">=", one[0].end))
		Expect(last[0].start).To(BeTemporally(">=", two[0].end))

		By("recording the same order in the API server's timestamps")
		batch := func(names ...string) []*batonv1.OperatorCommand {
			var out []*batonv1.OperatorCommand
			for _, n := range names {
				out = append(out, getCommand(ns, n))
			}
			return out
		}
		batches := [][]*batonv1.OperatorCommand{batch("a-first"), batch("b-one", "b-two"), batch("c-last")}
		for k := 1; k < len(batches); k++ {
			for _, later := range batches[k] {
				for _, earlier := range batches[k-1] {
					Expect(later.Status.StartedAt.Time).To(BeTemporally(">=", earlier.Status.CompletedAt.Time))
				}
			}
		}
		for _, cmd := range batch("a-first", "b-one", "b-two", "c-last") {
			Expect(cmd.Status.Phase).To(Equal(batonv1.CommandSucceeded))
			Expect(cmd.Status.Completed).To(BeTrue())
			Expect(cmd.Status.Executer).To(Equal("baton-test"))
			Expect(cmd.Status.Attempts).To(Equal(int32(1)))
			Expect(payloadOf(cmd)).To(HaveKeyWithValue("name", cmd.Name))
		}

		By("writing the report in (index, name) order, with JSON payloads inline")
		seq := getSequence(ns, "rev")
		Expect(seq.Status.Progress).To(Equal("4/4"))
		Expect(seq.Status.Report).NotTo(BeNil())
		var names []string
		for _, m := range seq.Status.Report.Members {
			names = append(names, m.Name)
			Expect(m.Phase).To(Equal(batonv1.CommandSucceeded))
			Expect(m.Payload).NotTo(BeNil())
			var p map[string]any
			Expect(json.Unmarshal(m.Payload.Raw, &p)).To(Succeed())
			Expect(p).To(HaveKeyWithValue("name", m.Name))
		}
		Expect(names).To(Equal([]string{"a-first", "b-one", "b-two", "c-last"}))
		Expect(seq.Status.CompletedAt).NotTo(BeNil())
		Eventually(sequenceEvents(ns, "rev"), wait).Should(ConsistOf("Normal Running: started: all 4 commands present",
			HavePrefix("Normal Succeeded: 4/4 succeeded in ")))
	})

	It("runs a standalone command at once and makes no sequence for it", func() {
		newCommand(ns, "alone").Create()
		Eventually(phaseOf(ns, "alone"), wait).Should(Equal(batonv1.CommandSucceeded))
		Expect(h.count("alone")).To(Equal(1))
		var list batonv1.CommandSequenceList
		Expect(k8s.List(suiteCt, &list)).To(Succeed())
		for _, s := range list.Items {
			Expect(s.Namespace).NotTo(Equal(ns))
		}
	})

	It("skips later batches after a failure, naming the culprit, and lets the same batch finish", func() {
		newCommand(ns, "ok-0").In("fails", 0, 4).Create()
		newCommand(ns, "bad-1").In("fails", 1, 4).Type("fail").Create()
		newCommand(ns, "peer-1").In("fails", 1, 4).Arg("sleep", "300ms").Create()
		newCommand(ns, "later-2").In("fails", 2, 4).Create()

		Eventually(sequencePhase(ns, "fails"), wait).Should(Equal(batonv1.SequenceFailed))
		bad := getCommand(ns, "bad-1")
		Expect(bad.Status.Phase).To(Equal(batonv1.CommandFailed))
		Expect(bad.Status.Error.Message).To(ContainSubstring("boom"))
		Expect(getCommand(ns, "peer-1").Status.Phase).To(Equal(batonv1.CommandSucceeded))
		later := getCommand(ns, "later-2")
		Expect(later.Status.Phase).To(Equal(batonv1.CommandSkipped))
		Expect(later.Status.Completed).To(BeTrue())
		Expect(later.Status.Error.Reason).To(Equal(batonv1.ReasonPredecessorFailed))
		Expect(later.Status.Error.Message).To(ContainSubstring("bad-1"))
		Expect(h.count("later-2")).To(BeZero())
		Expect(getSequence(ns, "fails").Status.FailedMember).To(Equal("bad-1"))
		Eventually(eventsFor(ns, "bad-1"), wait).Should(ContainElement(HavePrefix("Warning " + batonv1.ReasonHandlerFailed)))
	})

	It("goes on past a failure marked continue-on-failure", func() {
		newCommand(ns, "soft").In("soft", 0, 2).Type("fail").Annotate(batonv1.AnnotationContinueOnFailure, "true").Create()
		newCommand(ns, "after").In("soft", 1, 2).Create()
		Eventually(phaseOf(ns, "after"), wait).Should(Equal(batonv1.CommandSucceeded))
		Expect(getCommand(ns, "soft").Status.Phase).To(Equal(batonv1.CommandFailed))
		Expect(h.count("after")).To(Equal(1))
	})

	It("evaluates when-conditions over earlier steps: true runs, false skips, invalid fails", func() {
		newCommand(ns, "probe").In("cond", 0, 4).Create()
		newCommand(ns, "yes").In("cond", 1, 4).Annotate(batonv1.AnnotationWhen, `steps["probe"].phase == "Succeeded" && steps["probe"].payload.name == "probe"`).Create()
		newCommand(ns, "no").In("cond", 1, 4).Annotate(batonv1.AnnotationWhen, `steps["probe"].phase == "Failed"`).Create()
		newCommand(ns, "broken").In("cond", 1, 4).Annotate(batonv1.AnnotationWhen, `steps[[[`).Annotate(batonv1.AnnotationContinueOnFailure, "true").Create()

		Eventually(sequencePhase(ns, "cond"), wait).Should(Equal(batonv1.SequenceSucceeded))
		Expect(getCommand(ns, "yes").Status.Phase).To(Equal(batonv1.CommandSucceeded))
		no := getCommand(ns, "no")
		Expect(no.Status.Phase).To(Equal(batonv1.CommandSkipped))
		Expect(no.Status.Error.Reason).To(Equal(batonv1.ReasonConditionFalse))
		broken := getCommand(ns, "broken")
		Expect(broken.Status.Phase).To(Equal(batonv1.CommandFailed))
		Expect(broken.Status.Error.Reason).To(Equal(batonv1.ReasonInvalidCondition))
		Expect(h.count("no") + h.count("broken")).To(BeZero())
	})

	DescribeTable("retries what a handler marks retryable, counting the attempts",
		func(failures int, retries string, phase batonv1.CommandPhase, attempts int) {
			h.failTimes("flaky", failures)
			newCommand(ns, "flaky").Type("flaky").Annotate(batonv1.AnnotationRetries, retries).Create()
			Eventually(phaseOf(ns, "flaky"), wait).Should(Equal(phase))
			Expect(getCommand(ns, "flaky").Status.Attempts).To(Equal(int32(attempts)))
			Expect(h.count("flaky")).To(Equal(attempts))
		},
		Entry("until it succeeds", 2, "3", batonv1.CommandSucceeded, 3),
		Entry("until the retries run out", 5, "1", batonv1.CommandFailed, 2),
	)

	It("fails a step whose payload is over --max-payload-bytes, and keeps it out of the status", func() {
		newCommand(ns, "big").Type("big").Create()
		Eventually(phaseOf(ns, "big"), wait).Should(Equal(batonv1.CommandFailed))
		big := getCommand(ns, "big")
		Expect(big.Status.Error.Reason).To(Equal(batonv1.ReasonPayloadTooLarge))
		Expect(big.Status.Payload).To(BeEmpty())
	})

	It("expires a running handler at its TTL and cancels its context", func() {
		created := newCommand(ns, "slow").Type("block").TTL(5 * time.Second).Create()
		Eventually(phaseOf(ns, "slow"), wait).Should(Equal(batonv1.CommandExpired))
		slow := getCommand(ns, "slow")
		Expect(slow.Status.Completed).To(BeTrue())
		Expect(slow.Status.Error.Reason).To(Equal(batonv1.ReasonExpired))
		Eventually(func() []run { return h.invocations("slow") }, wait).Should(HaveLen(1))
		r := h.invocations("slow")[0]
		Expect(r.ctxErr).To(HaveOccurred(), "the handler's context was cancelled")
		deadline := created.CreationTimestamp.Add(5 * time.Second)
		// creationTimestamp has second precision: the deadline is within a second of it.
		Expect(r.end).To(BeTemporally("~", deadline, 1500*time.Millisecond))
	})

	It("expires an external command that nobody executes", func() {
		newCommand(ns, "nobody").Type("external-nobody-runs").TTL(5 * time.Second).Create()
		Eventually(phaseOf(ns, "nobody"), wait).Should(Equal(batonv1.CommandExpired))
		cmd := getCommand(ns, "nobody")
		Expect(cmd.Labels).To(HaveKeyWithValue(batonv1.LabelGate, batonv1.GateOpen))
		Expect(cmd.Status.Error.Reason).To(Equal(batonv1.ReasonExpired))
	})

	It("keeps a non-JSON payload as base64 in the report", func() {
		newCommand(ns, "text").In("text", 0, 1).Type("text").Create()
		Eventually(sequencePhase(ns, "text"), wait).Should(Equal(batonv1.SequenceSucceeded))
		m := getSequence(ns, "text").Status.Report.Members[0]
		Expect(string(m.PayloadBase64)).To(Equal("plain text, not JSON"))
		Expect(m.Payload).To(BeNil())
	})

	It("keeps a result when the command was changed while its handler ran", func() {
		newCommand(ns, "busy").Type("block").Create()
		Eventually(h.startedCount("busy"), wait).Should(Equal(1))
		busy := getCommand(ns, "busy")
		busy.Annotations = map[string]string{"example.com/note": "touched while running"}
		Expect(k8s.Update(suiteCt, busy)).To(Succeed())
		h.unblock("busy")

		Eventually(phaseOf(ns, "busy"), wait).Should(Equal(batonv1.CommandSucceeded))
		Expect(payloadOf(getCommand(ns, "busy"))).To(HaveKeyWithValue("released", true))
		Expect(h.count("busy")).To(Equal(1))
	})

	It("fails a step whose handler panics, and keeps running others", func() {
		newCommand(ns, "panics").Type("panic").Create()
		Eventually(phaseOf(ns, "panics"), wait).Should(Equal(batonv1.CommandFailed))
		Expect(getCommand(ns, "panics").Status.Error.Message).To(ContainSubstring("handler panicked"))
		newCommand(ns, "after").Create()
		Eventually(phaseOf(ns, "after"), wait).Should(Equal(batonv1.CommandSucceeded))
	})

	It("refuses a status write that would restart a completed command, with a Warning event", func() {
		newCommand(ns, "done").Create()
		Eventually(phaseOf(ns, "done"), wait).Should(Equal(batonv1.CommandSucceeded))

		cmd := getCommand(ns, "done")
		cmd.Status.Completed, cmd.Status.CompletedAt = false, nil
		Expect(k8s.Status().Update(suiteCt, cmd)).To(Succeed())

		Eventually(eventsFor(ns, "done"), wait).Should(ContainElement(HavePrefix("Warning " + batonv1.ReasonIllegalTransition)))
		Eventually(func() bool { return getCommand(ns, "done").Status.Completed }, wait).Should(BeTrue())
		Expect(getCommand(ns, "done").Status.Phase).To(Equal(batonv1.CommandSucceeded))
		Expect(h.count("done")).To(Equal(1))
	})
})
