package controllers_test

import (
	"math"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Bad input fails the command or sequence it is on, with the reason in its status and a
// Warning event on the commands it fails, in bounded time; the manager goes on (a spec ends by running a good
// command through it).
var _ = Describe("bad input", func() {
	var (
		ns string
		h  *handlers
	)
	BeforeEach(func() {
		ns = newNamespace()
		h = newHandlers(ns)
		opts := testOptions()
		opts.Engine.DefaultTTL = 3 * time.Second
		startManager(opts, h)
	})
	// stillWorks checks that the manager still runs a good command.
	stillWorks := func() {
		newCommand(ns, "good").TTL(time.Minute).Create()
		Eventually(phaseOf(ns, "good"), wait).Should(Equal(batonv1.CommandSucceeded))
	}
	expectWarned := func(name, reason string) {
		Eventually(eventsFor(ns, name), wait).Should(ContainElement(HavePrefix("Warning " + reason)))
	}

	DescribeTable("fails a command whose annotation cannot be used, never running its handler",
		func(annotation, value, reason string) {
			created := newCommand(ns, "bad").TTL(time.Minute).Annotate(annotation, value).Create()
			Eventually(phaseOf(ns, "bad"), wait).Should(Equal(batonv1.CommandFailed))
			bad := getCommand(ns, "bad")
			Expect(bad.Status.Error.Reason).To(Equal(reason))
			Expect(len(bad.Status.Error.Message)).To(BeNumerically("<=", 1024), "a hostile value is not echoed whole")
			Expect(bad.Status.CompletedAt.Time).To(BeTemporally("<", created.CreationTimestamp.Add(10*time.Second)), "in bounded time")
			expectWarned("bad", reason)
			Expect(h.count("bad")).To(BeZero())
			stillWorks()
		},
		Entry("non-numeric retries", batonv1.AnnotationRetries, "three", batonv1.ReasonInvalidRetries),
		Entry("huge retries", batonv1.AnnotationRetries, "99999999999999999999999999", batonv1.ReasonInvalidRetries),
		Entry("negative retries", batonv1.AnnotationRetries, "-1", batonv1.ReasonInvalidRetries),
		Entry("an invalid condition", batonv1.AnnotationWhen, "steps[[[", batonv1.ReasonInvalidCondition),
		Entry("a condition nested 1,500 deep", batonv1.AnnotationWhen,
			strings.Repeat("[", 1500)+"true"+strings.Repeat("]", 1500), batonv1.ReasonInvalidCondition),
		Entry("a condition of 3,000 negations", batonv1.AnnotationWhen, strings.Repeat("!", 3000)+"true", batonv1.ReasonInvalidCondition),
		Entry("a condition with a 100 KiB literal", batonv1.AnnotationWhen,
			`"`+strings.Repeat("x", 100<<10)+`" != ""`, batonv1.ReasonInvalidCondition),
		Entry("a condition looping a billion times", batonv1.AnnotationWhen,
			"all(1..1000, {all(1..1000, {all(1..1000, {# > 0})})})", batonv1.ReasonInvalidCondition),
		Entry("a condition that is not a bool", batonv1.AnnotationWhen, `"yes"`, batonv1.ReasonInvalidCondition),
	)

	It("fails a sequence with a member missing its commandIndex with MissingIndex", func() {
		newCommand(ns, "indexed").In("noindex", 0, 2).Create()
		missing := newCommand(ns, "unindexed").In("noindex", 1, 2).Obj()
		missing.Spec.CommandIndex = nil
		Expect(k8s.Create(suiteCt, missing)).To(Succeed())
		Eventually(sequencePhase(ns, "noindex"), wait).Should(Equal(batonv1.SequenceFailed))
		Expect(getSequence(ns, "noindex").Status.Reason).To(Equal(batonv1.ReasonMissingIndex))
		// The Warning is on the commands; the sequence, which never started, gets its Normal
		// end event alone.
		expectWarned("indexed", batonv1.ReasonMissingIndex)
		Eventually(sequenceEvents(ns, "noindex"), wait).Should(ConsistOf(HavePrefix("Normal Failed: ")))
		Expect(h.count("indexed") + h.count("unindexed")).To(BeZero())
		stillWorks()
	})

	It("fails a sequence with more members than its commandCount with TooManyCommands", func() {
		for _, name := range []string{"one", "two", "three"} {
			newCommand(ns, name).In("crowded", 0, 2).Create()
		}
		Eventually(sequencePhase(ns, "crowded"), wait).Should(Equal(batonv1.SequenceFailed))
		Expect(getSequence(ns, "crowded").Status.Reason).To(Equal(batonv1.ReasonTooManyCommands))
		expectWarned("one", batonv1.ReasonTooManyCommands)
		Eventually(sequenceEvents(ns, "crowded"), wait).Should(ConsistOf(HavePrefix("Normal Failed: ")))
		Expect(h.count("one") + h.count("two") + h.count("three")).To(BeZero())
		stillWorks()
	})

	It("runs a command with the largest int64 ttl, and expires one with a negative ttl at --default-ttl", func() {
		newCommand(ns, "forever").TTL(time.Duration(math.MaxInt64)).Create()
		Eventually(phaseOf(ns, "forever"), wait).Should(Equal(batonv1.CommandSucceeded))
		Expect(h.invocations("forever")).To(HaveLen(1))
		Expect(h.invocations("forever")[0].ctxErr).NotTo(HaveOccurred(), "no overflowed deadline ended it")

		created := newCommand(ns, "negative").Type("block").TTL(-time.Hour).Create()
		Eventually(phaseOf(ns, "negative"), wait).Should(Equal(batonv1.CommandExpired))
		negative := getCommand(ns, "negative")
		Expect(negative.Status.Error.Reason).To(Equal(batonv1.ReasonExpired))
		Expect(negative.Status.CompletedAt.Time).To(BeTemporally("~", created.CreationTimestamp.Add(3*time.Second), 2*time.Second),
			"a negative ttl reads as 0: the default applies")
		expectWarned("negative", batonv1.ReasonExpired)
	})

	It("refuses a negative or absurd duration-string ttl at admission, with a clear message", func() {
		for _, ttl := range []string{"-5m", "9999999999999999h", strings.Repeat("1", 70) + "s"} {
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "kubescape.io/v1alpha1", "kind": "OperatorCommand",
				"metadata": map[string]any{"generateName": "ttl-", "namespace": ns},
				"spec":     map[string]any{"guid": "ttl", "commandType": "record", "ttl": ttl},
			}}
			err := k8s.Create(suiteCt, u)
			Expect(err).To(HaveOccurred(), "ttl %q", ttl)
			Expect(err.Error()).To(ContainSubstring("ttl must be int64 nanoseconds or a Go duration string"), "ttl %q", ttl)
		}
		stillWorks()
	})

	It("fails a step whose payload is too large with PayloadTooLarge and a Warning event", func() {
		newCommand(ns, "big").Type("big").TTL(time.Minute).Create()
		Eventually(phaseOf(ns, "big"), wait).Should(Equal(batonv1.CommandFailed))
		Expect(getCommand(ns, "big").Status.Error.Reason).To(Equal(batonv1.ReasonPayloadTooLarge))
		expectWarned("big", batonv1.ReasonPayloadTooLarge)
		stillWorks()
	})

	It("leaves a commandVersion with no handler to an external executor, and expires it unrun", func() {
		v2 := newCommand(ns, "v2").Type("versioned").TTL(time.Minute).Obj()
		v2.Spec.CommandVersion = "v2"
		Expect(k8s.Create(suiteCt, v2)).To(Succeed())
		v1 := newCommand(ns, "v1").Type("versioned").Obj()
		v1.Spec.CommandVersion = "v1"
		Expect(k8s.Create(suiteCt, v1)).To(Succeed())

		Eventually(phaseOf(ns, "v2"), wait).Should(Equal(batonv1.CommandSucceeded))
		Eventually(phaseOf(ns, "v1"), wait).Should(Equal(batonv1.CommandExpired))
		unknown := getCommand(ns, "v1")
		Expect(unknown.Labels).To(HaveKeyWithValue(batonv1.LabelGate, batonv1.GateOpen), "handed to whoever executes v1")
		Expect(unknown.Status.Error.Reason).To(Equal(batonv1.ReasonExpired))
		expectWarned("v1", batonv1.ReasonExpired)
		Expect(h.count("v1")).To(BeZero(), "the v2 handler never ran a v1 command")
		Expect(h.count("v2")).To(Equal(1))
	})

	It("refuses an external executor's report that starts a completed command again", func() {
		newCommand(ns, "scan").Type("ScanImage").TTL(time.Minute).Create()
		Eventually(func() map[string]string { return getCommand(ns, "scan").Labels }, wait).
			Should(HaveKeyWithValue(batonv1.LabelGate, batonv1.GateOpen))

		By("the executor reporting it done")
		scan := getCommand(ns, "scan")
		now := scan.CreationTimestamp
		scan.Status.Started, scan.Status.StartedAt, scan.Status.Executer = true, &now, "operator"
		scan.Status.Completed, scan.Status.CompletedAt, scan.Status.Payload = true, &now, []byte(`{"ok":true}`)
		Expect(k8s.Status().Update(suiteCt, scan)).To(Succeed())
		Eventually(phaseOf(ns, "scan"), wait).Should(Equal(batonv1.CommandSucceeded))

		By("the executor reporting it started again")
		scan = getCommand(ns, "scan")
		scan.Status.Completed, scan.Status.CompletedAt = false, nil
		Expect(k8s.Status().Update(suiteCt, scan)).To(Succeed())

		expectWarned("scan", batonv1.ReasonIllegalTransition)
		Eventually(func() bool { return getCommand(ns, "scan").Status.Completed }, wait).Should(BeTrue())
		Expect(getCommand(ns, "scan").Status.Phase).To(Equal(batonv1.CommandSucceeded))
		Expect(string(getCommand(ns, "scan").Status.Payload)).To(MatchJSON(`{"ok":true}`))
		stillWorks()
	})
})
