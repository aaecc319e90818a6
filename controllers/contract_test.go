package controllers_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// The contract points that only show on a real API server: admission, rewrites, what
// outlives what, cancellation and handlers that misbehave.
var _ = Describe("the contract", func() {
	var (
		ns string
		h  *handlers
	)
	BeforeEach(func() {
		ns = newNamespace()
		h = newHandlers(ns)
	})

	It("refuses a negative commandIndex and a commandCount below 1 at admission, with a clear message", func() {
		err := k8s.Create(suiteCt, newCommand(ns, "negative").In("bounds", -1, 2).Obj())
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("commandIndex must be 0 or more"))
		err = k8s.Create(suiteCt, newCommand(ns, "empty").In("bounds", 0, 0).Obj())
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("commandCount must be 1 or more"))
		Expect(k8s.Create(suiteCt, newCommand(ns, "lowest").In("bounds", 0, 1).Obj())).To(Succeed())
	})

	// A command carrying a routing label keeps its string: contract_fixes_test.go.
	It("rewrites every string ttl, \"0s\" and \"0\" too", func() {
		startManager(testOptions(), h)
		create := func(name, ttl string, labels map[string]any) {
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "kubescape.io/v1alpha1", "kind": "OperatorCommand",
				"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels},
				"spec":     map[string]any{"guid": name, "commandType": "ScanImage", "ttl": ttl},
			}}
			Expect(k8s.Create(suiteCt, u)).To(Succeed())
		}
		create("zero-s", "0s", nil)
		create("zero", "0", nil)
		ttlOf := func(name string) func() any {
			return func() any {
				raw := &unstructured.Unstructured{}
				raw.SetGroupVersionKind(batonv1.GroupVersion.WithKind("OperatorCommand"))
				Expect(k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: name}, raw)).To(Succeed())
				ttl, _, _ := unstructured.NestedFieldNoCopy(raw.Object, "spec", "ttl")
				return ttl
			}
		}
		for _, name := range []string{"zero-s", "zero"} {
			Eventually(ttlOf(name), wait).Should(Equal(int64(0)), name)
		}
	})

	It("keeps a finished sequence's report when its commands are deleted", func() {
		startManager(testOptions(), h)
		newCommand(ns, "kept-0").In("kept", 0, 2).Create()
		newCommand(ns, "kept-1").In("kept", 1, 2).Create()
		Eventually(sequencePhase(ns, "kept"), wait).Should(Equal(batonv1.SequenceSucceeded))
		for _, name := range []string{"kept-0", "kept-1"} {
			Expect(k8s.Delete(suiteCt, getCommand(ns, name))).To(Succeed())
		}
		Consistently(func() int {
			seq := &batonv1.CommandSequence{}
			if err := k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: "kept"}, seq); err != nil || seq.Status.Report == nil {
				return -1
			}
			return len(seq.Status.Report.Members)
		}, 3*time.Second).Should(Equal(2))
		Expect(getSequence(ns, "kept").Status.Phase).To(Equal(batonv1.SequenceSucceeded))
	})

	It("fails an unfinished sequence whose commands all vanish with CommandsDeleted", func() {
		startManager(testOptions(), h)
		newCommand(ns, "gone-0").In("gone", 0, 3).Create()
		newCommand(ns, "gone-1").In("gone", 1, 3).Type("block").Create()
		// External: it never finishes on its own, whatever order the deletions arrive in.
		newCommand(ns, "gone-2").In("gone", 2, 3).Type("ScanImage").Create()
		Eventually(phaseOf(ns, "gone-1"), wait).Should(Equal(batonv1.CommandRunning))
		Eventually(func() string { return getSequence(ns, "gone").Status.Progress }, wait).Should(Equal("1/3"))
		Expect(k8s.DeleteAllOf(suiteCt, &batonv1.OperatorCommand{}, client.InNamespace(ns))).To(Succeed())
		Eventually(sequencePhase(ns, "gone"), wait).Should(Equal(batonv1.SequenceFailed))
		seq := getSequence(ns, "gone")
		Expect(seq.Status.Reason).To(Equal(batonv1.ReasonCommandsDeleted))
		Expect(seq.Status.Report.Complete).To(BeFalse())
		Expect(seq.Status.Report.Omitted).To(Equal(map[batonv1.CommandPhase]int32{
			batonv1.CommandSucceeded: 1, batonv1.CommandPending: 2}))
		Eventually(func() []run { return h.invocations("gone-1") }, wait).Should(HaveLen(1), "its handler was stopped")
	})

	It("releases the slot of a handler that ignores its context at its TTL, and counts it", func() {
		opts := testOptions()
		opts.MaxConcurrentSteps = 1
		startManager(opts, h)
		before := counter("baton_abandoned_handlers_total", "stubborn", "")
		newCommand(ns, "stubborn").Type("stubborn").Arg("hold", "8s").TTL(2 * time.Second).Create()
		Eventually(h.startedCount("stubborn"), wait).Should(Equal(1))
		newCommand(ns, "next").Create()

		Eventually(phaseOf(ns, "next"), wait).Should(Equal(batonv1.CommandSucceeded), "the only slot is free again at the TTL")
		Expect(h.count("stubborn")).To(BeZero(), "the stubborn handler has not returned yet")
		Expect(getCommand(ns, "stubborn").Status.Phase).To(Equal(batonv1.CommandExpired))
		Expect(counter("baton_abandoned_handlers_total", "stubborn", "")).To(Equal(before + 1))
	})

	It("cancels a sequence: its running handler sees its context end, the rest is skipped", func() {
		startManager(testOptions(), h)
		newCommand(ns, "stop-0").In("stop", 0, 2).Type("block").Create()
		newCommand(ns, "stop-1").In("stop", 1, 2).Create()
		Eventually(phaseOf(ns, "stop-0"), wait).Should(Equal(batonv1.CommandRunning))

		seq := getSequence(ns, "stop")
		orig := seq.DeepCopy()
		seq.Annotations = map[string]string{batonv1.AnnotationCancel: "true"}
		Expect(k8s.Patch(suiteCt, seq, client.MergeFrom(orig))).To(Succeed())

		Eventually(sequencePhase(ns, "stop"), wait).Should(Equal(batonv1.SequenceFailed))
		stopped := getSequence(ns, "stop")
		Expect(stopped.Status.Reason).To(Equal(batonv1.ReasonCancelled))
		// Cancelled within its first second, its Running may never have been written: the
		// final status still says when it started and the batch it stopped.
		Expect(stopped.Status.StartedAt).NotTo(BeNil())
		Expect(stopped.Status.CurrentBatch).To(HaveValue(Equal(0)), "the batch it stopped")
		Eventually(sequenceEvents(ns, "stop"), wait).Should(Equal([]string{"Normal Running: started: all 2 commands present",
			"Normal Failed: " + stopped.Status.Message}))
		running := getCommand(ns, "stop-0")
		Expect(running.Status.Phase).To(Equal(batonv1.CommandFailed))
		Expect(running.Status.Error.Reason).To(Equal(batonv1.ReasonCancelled))
		Expect(h.invocations("stop-0")).To(HaveLen(1))
		Expect(h.invocations("stop-0")[0].ctxErr).To(MatchError(context.Canceled), "the handler saw its context cancelled")
		later := getCommand(ns, "stop-1")
		Expect(later.Status.Phase).To(Equal(batonv1.CommandSkipped))
		Expect(later.Status.Error.Reason).To(Equal(batonv1.ReasonCancelled))
		Expect(h.count("stop-1")).To(BeZero())
	})
})
