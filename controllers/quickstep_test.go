package controllers_test

import (
	"context"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/controllers"
	"github.com/batonhq/baton/steps"
)

// One write for a quick idempotent step (DESIGN 4): every status a command is seen with,
// from its creation, through a watch started before it.
var _ = Describe("--claim-after", func() {
	var (
		ns      string
		h       *handlers
		changes func(names ...string) map[string][]batonv1.OperatorCommandStatus
	)
	BeforeEach(func() {
		ns = newNamespace()
		h = newHandlers(ns)
		changes = watchStatuses(ns)
	})
	// options are the test options with claimAfter and every command event recorded.
	options := func(claimAfter time.Duration) controllers.Options {
		opts := testOptions()
		opts.ClaimAfter = claimAfter
		opts.CommandEvents = controllers.EventsAll
		return opts
	}

	It("writes a quick idempotent step once: its claim and its result together, never Running", func() {
		// Far longer than noop takes, whatever the machine's load.
		startManager(options(wait), h)
		succeeded, ran := counter("baton_commands_total", steps.TypeNoop, "Succeeded"), stepsObserved(steps.TypeNoop)
		names := []string{"quick-0", "quick-1", "quick-2"}
		for i, name := range names {
			newCommand(ns, name).In("quick", i, len(names)).Type("noop").Create()
		}

		seen := changes(names...)
		for _, name := range names {
			Expect(seen[name]).To(HaveLen(1), "%s: one status write, seen %+v", name, seen[name])
			st := seen[name][0]
			Expect(st.Phase).To(Equal(batonv1.CommandSucceeded), name)
			Expect(st.Started).To(BeTrue(), name)
			Expect(st.StartedAt).NotTo(BeNil(), name)
			Expect(st.Executer).To(Equal("baton-test"), name)
			Expect(st.Completed).To(BeTrue(), name)
			Expect(st.CompletedAt).NotTo(BeNil(), name)
			Expect(st.Attempts).To(Equal(int32(1)), name)
			Expect(st.Error).To(BeNil(), name)
			Expect(h.count(name)).To(Equal(1), name)
		}
		Eventually(sequencePhase(ns, "quick"), wait).Should(Equal(batonv1.SequenceSucceeded))
		Expect(counter("baton_commands_total", steps.TypeNoop, "Succeeded")).To(Equal(succeeded+3), "each outcome counted once")
		Expect(stepsObserved(steps.TypeNoop)).To(Equal(ran+3), "each run timed")
		Eventually(eventsFor(ns, "quick-1"), wait).Should(ContainElements(
			HavePrefix("Normal Started: started by baton-test (attempt 1)"), HavePrefix("Normal Succeeded")),
			"policy all records Started for a one-write step too")
	})

	It("spends one command write per quick step of a chain, counted at the API server", func() {
		const steps = 10
		opts := testOptions()
		opts.ClaimAfter = wait
		startManager(opts, h)
		before := apiWrites()
		chain(ns, "onewrite", "noop", steps)
		Eventually(sequencePhase(ns, "onewrite"), wait).Should(Equal(batonv1.SequenceSucceeded))
		writes := diffWrites(apiWrites(), before)
		By(fmt.Sprintf("writes: %v", writes))
		Expect(writes["operatorcommands/status PATCH"]).To(Equal(float64(steps)), "one write a step")
		for k := range writes {
			Expect(k).NotTo(HavePrefix("operatorcommands "), "no other write to a command")
		}
	})

	It("claims an idempotent step still running at --claim-after, then writes its result", func() {
		startManager(options(100*time.Millisecond), h)
		newCommand(ns, "slow").Type("block-idempotent").Create()
		Eventually(phaseOf(ns, "slow"), wait).Should(Equal(batonv1.CommandRunning))
		Expect(h.startedCount("slow")()).To(Equal(1))
		h.unblock("slow")

		seen := changes("slow")["slow"]
		Expect(seen).To(HaveLen(2), "the claim, then the result: %+v", seen)
		Expect(seen[0].Phase).To(Equal(batonv1.CommandRunning))
		Expect(seen[0].Started).To(BeTrue())
		Expect(seen[0].Executer).To(Equal("baton-test"))
		Expect(seen[0].Completed).To(BeFalse())
		Expect(seen[1].Phase).To(Equal(batonv1.CommandSucceeded))
		Expect(seen[1].Attempts).To(Equal(int32(1)))
		Expect(h.count("slow")).To(Equal(1))
	})

	It("records when a step claimed late began, not when it was claimed", func() {
		// Over a second: a startedAt taken at the claim would read at least one second
		// after the handler's start, at the second's precision the API server keeps.
		startManager(options(1100*time.Millisecond), h)
		newCommand(ns, "late").Type("block-idempotent").Create()
		Eventually(phaseOf(ns, "late"), wait).Should(Equal(batonv1.CommandRunning))
		h.unblock("late")

		seen := changes("late")["late"]
		Expect(seen).To(HaveLen(2), "the claim, then the result: %+v", seen)
		runs := h.invocations("late")
		Expect(runs).To(HaveLen(1))
		began := runs[0].start.Truncate(time.Second)
		Expect(seen[0].StartedAt).NotTo(BeNil())
		Expect(seen[0].StartedAt.Time.After(began)).To(BeFalse(),
			"startedAt %s is when the handler began (%s), not the claim", seen[0].StartedAt.Time, began)
		Expect(seen[1].StartedAt.Equal(seen[0].StartedAt)).To(BeTrue(), "the result keeps the claim's startedAt")
	})

	It("sends a one write refused for good again as the failure without its payload, ResultRejected", func() {
		refuseLongPayloads(ns)
		startManager(options(wait), h)
		newCommand(ns, "refused").Type("noop").Arg("echoed", "far more than twelve bytes").Create()

		seen := changes("refused")["refused"]
		Expect(seen).To(HaveLen(1), "one status write, seen %+v", seen)
		st := seen[0]
		Expect(st.Phase).To(Equal(batonv1.CommandFailed))
		Expect(st.Error).NotTo(BeNil())
		Expect(st.Error.Reason).To(Equal(batonv1.ReasonResultRejected))
		Expect(st.Payload).To(BeEmpty(), "written without the payload")
		Expect(st.Started).To(BeTrue())
		Expect(st.Executer).To(Equal("baton-test"))
		Expect(h.count("refused")).To(Equal(1), "its handler ran once")
	})

	It("claims a quick step that failed retryably with retries left, then retries it as a claimed step", func() {
		startManager(options(wait), h)
		h.failTimes("flaky", 1)
		newCommand(ns, "flaky").Type("flaky-idempotent").Annotate(batonv1.AnnotationRetries, "1").Create()

		seen := changes("flaky")["flaky"]
		Expect(seen).To(HaveLen(3), "the claim, the retry, the result: %+v", seen)
		Expect(seen[0].Phase).To(Equal(batonv1.CommandRunning))
		Expect(seen[0].Attempts).To(Equal(int32(1)))
		Expect(seen[1].Attempts).To(Equal(int32(2)))
		Expect(seen[1].Message).To(HavePrefix("attempt 1 failed: not yet; retrying in"))
		Expect(seen[2].Phase).To(Equal(batonv1.CommandSucceeded))
		Expect(seen[2].Attempts).To(Equal(int32(2)))
	})

	It("writes a quick step that failed retryably with no retries left once, Failed", func() {
		startManager(options(wait), h)
		h.failTimes("spent", 1)
		newCommand(ns, "spent").Type("flaky-idempotent").Create()

		seen := changes("spent")["spent"]
		Expect(seen).To(HaveLen(1), "one status write, seen %+v", seen)
		Expect(seen[0].Phase).To(Equal(batonv1.CommandFailed))
		Expect(seen[0].Error.Reason).To(Equal(batonv1.ReasonHandlerFailed))
		Expect(seen[0].Attempts).To(Equal(int32(1)))
		Expect(seen[0].Started).To(BeTrue())
	})

	It("restores claim-then-run at 0: a quick idempotent step is seen Running first", func() {
		startManager(options(0), h)
		newCommand(ns, "claimed").Type("noop").Create()

		seen := changes("claimed")["claimed"]
		Expect(seen).To(HaveLen(2), "the claim, then the result: %+v", seen)
		Expect(seen[0].Phase).To(Equal(batonv1.CommandRunning))
		Expect(seen[1].Phase).To(Equal(batonv1.CommandSucceeded))
	})

	It("always claims a step not declared idempotent before it runs", func() {
		startManager(options(wait), h)
		newCommand(ns, "once").Type("record").Create()

		seen := changes("once")["once"]
		Expect(seen).To(HaveLen(2), "the claim, then the result: %+v", seen)
		Expect(seen[0].Phase).To(Equal(batonv1.CommandRunning))
		Expect(seen[1].Phase).To(Equal(batonv1.CommandSucceeded))
		Expect(h.count("once")).To(Equal(1))
	})

	It("leaves a step whose manager stopped before claiming it to the next one: no executor lost", func() {
		stop := startManager(options(time.Hour), h)
		newCommand(ns, "again").Type("block-idempotent").Create()
		Eventually(h.startedCount("again"), wait).Should(Equal(1))
		stop()
		Expect(getCommand(ns, "again").Status.Started).To(BeFalse(), "nothing written for a step stopped unclaimed")

		h.unblock("again")
		startManager(options(time.Hour), h)
		seen := changes("again")["again"]
		Expect(seen).To(HaveLen(1), "one write, by the manager that ran it to the end: %+v", seen)
		Expect(seen[0].Phase).To(Equal(batonv1.CommandSucceeded))
		Expect(seen[0].Attempts).To(Equal(int32(1)))
		runs := h.invocations("again")
		Expect(runs).To(HaveLen(2))
		Expect(runs[0].ctxErr).To(HaveOccurred(), "the first run ended with its manager")
		Expect(runs[1].start).To(BeTemporally(">=", runs[0].end), "never two runs at once")
	})

	It("writes nothing for a step cancelled while it runs unclaimed: it ends Skipped, Cancelled", func() {
		stop := startManager(options(time.Hour), h)
		newCommand(ns, "cut-0").In("cut", 0, 2).Type("block-idempotent").Create()
		newCommand(ns, "cut-1").In("cut", 1, 2).Create()
		Eventually(h.startedCount("cut-0"), wait).Should(Equal(1))
		Expect(getCommand(ns, "cut-0").Status.Started).To(BeFalse(), "running, unclaimed")

		seq := &batonv1.CommandSequence{}
		Eventually(func() error { return k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: "cut"}, seq) }, wait).Should(Succeed())
		orig := seq.DeepCopy()
		seq.Annotations = map[string]string{batonv1.AnnotationCancel: "true"}
		Expect(k8s.Patch(suiteCt, seq, client.MergeFrom(orig))).To(Succeed())

		seen := changes("cut-0", "cut-1")
		Expect(seen["cut-0"]).To(HaveLen(1), "the cancel's write only: %+v", seen["cut-0"])
		Expect(seen["cut-0"][0].Phase).To(Equal(batonv1.CommandSkipped))
		Expect(seen["cut-0"][0].Error.Reason).To(Equal(batonv1.ReasonCancelled))
		Eventually(sequencePhase(ns, "cut"), wait).Should(Equal(batonv1.SequenceFailed))
		Eventually(func() int { return h.count("cut-0") }, wait).Should(Equal(1), "the handler returned")
		Expect(h.invocations("cut-0")[0].ctxErr).To(MatchError(context.Canceled), "the handler saw its context cancelled")
		skipped := getCommand(ns, "cut-0")

		By("the handler's outcome, once the runner let go of it, written nowhere")
		stop() // waits for the runner's jobs
		Expect(getCommand(ns, "cut-0").ResourceVersion).To(Equal(skipped.ResourceVersion))
		Expect(h.count("cut-1")).To(BeZero())
	})
})

// The guard of a quick step's one write (DESIGN 4): a conflict means the command changed
// since the handler started; read again, the result is written only if the command is
// still not completed nor claimed by another executor.
var _ = Describe("the one write of a quick step, after a conflict", func() {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	result := func(s *batonv1.OperatorCommandStatus) {
		s.Started, s.StartedAt, s.Executer, s.Attempts = true, &now, "baton-test", s.Attempts+1
		s.Completed, s.CompletedAt, s.Phase, s.Message = true, &now, batonv1.CommandSucceeded, "succeeded"
	}
	DescribeTable("re-reads the command and decides",
		func(meanwhile func(cmd *batonv1.OperatorCommand) error, landed bool, phase batonv1.CommandPhase) {
			ns := newNamespace()
			started := newCommand(ns, "quick").Create()
			changed := started.DeepCopy()
			Expect(meanwhile(changed)).To(Succeed())

			wrote, err := controllers.WriteUnclaimed(suiteCt, k8s, started, "baton-test", result)
			Expect(err).NotTo(HaveOccurred())
			Expect(wrote).To(Equal(landed))
			stored := getCommand(ns, "quick")
			Expect(stored.Status.Phase).To(Equal(phase))
			if !landed {
				Expect(stored.ResourceVersion).To(Equal(changed.ResourceVersion), "nothing written over it")
			}
		},
		Entry("a metadata patch: written on the new version", func(cmd *batonv1.OperatorCommand) error {
			orig := cmd.DeepCopy()
			cmd.Labels = map[string]string{"team": "a"}
			return k8s.Patch(suiteCt, cmd, client.MergeFrom(orig))
		}, true, batonv1.CommandSucceeded),
		Entry("a Ready write: written on the new version", func(cmd *batonv1.OperatorCommand) error {
			orig := cmd.DeepCopy()
			cmd.Status.Phase = batonv1.CommandReady
			return k8s.Status().Patch(suiteCt, cmd, client.MergeFrom(orig))
		}, true, batonv1.CommandSucceeded),
		Entry("a cancel's Skipped: dropped", func(cmd *batonv1.OperatorCommand) error {
			orig := cmd.DeepCopy()
			cmd.Status.Completed, cmd.Status.CompletedAt, cmd.Status.Phase = true, &now, batonv1.CommandSkipped
			cmd.Status.Error = &batonv1.OperatorCommandStatusError{Reason: batonv1.ReasonCancelled, Message: "cancelled"}
			return k8s.Status().Patch(suiteCt, cmd, client.MergeFrom(orig))
		}, false, batonv1.CommandSkipped),
		Entry("another executer's claim: dropped", func(cmd *batonv1.OperatorCommand) error {
			orig := cmd.DeepCopy()
			cmd.Status.Started, cmd.Status.StartedAt, cmd.Status.Executer = true, &now, "baton-other"
			cmd.Status.Phase = batonv1.CommandRunning
			return k8s.Status().Patch(suiteCt, cmd, client.MergeFrom(orig))
		}, false, batonv1.CommandRunning),
	)
})

// stepsObserved is the count of baton_step_duration_seconds for commandType.
func stepsObserved(commandType string) uint64 {
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != "baton_step_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "type" && l.GetValue() == commandType {
					return m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return 0
}

// watchStatuses starts a watch on the namespace's commands, for commands not created yet,
// and returns a function that reads it until every named command is terminal: each
// command's statuses in the order written, one for each event that changed it.
func watchStatuses(ns string) func(names ...string) map[string][]batonv1.OperatorCommandStatus {
	ctx, cancel := context.WithCancel(suiteCt)
	DeferCleanup(cancel)
	w, err := k8s.Watch(ctx, &batonv1.OperatorCommandList{}, client.InNamespace(ns))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(w.Stop)
	last := map[string]batonv1.OperatorCommandStatus{}
	seen := map[string][]batonv1.OperatorCommandStatus{}
	return func(names ...string) map[string][]batonv1.OperatorCommandStatus {
		terminal := func() bool {
			for _, name := range names {
				if n := len(seen[name]); n == 0 || !seen[name][n-1].Phase.Terminal() {
					return false
				}
			}
			return true
		}
		for !terminal() {
			var e watch.Event
			Eventually(w.ResultChan(), wait).Should(Receive(&e))
			cmd, ok := e.Object.(*batonv1.OperatorCommand)
			Expect(ok).To(BeTrue(), "watch event %s of %T", e.Type, e.Object)
			if prev, known := last[cmd.Name]; known && !equality.Semantic.DeepEqual(prev, cmd.Status) {
				seen[cmd.Name] = append(seen[cmd.Name], cmd.Status)
			}
			last[cmd.Name] = cmd.Status
		}
		return seen
	}
}
