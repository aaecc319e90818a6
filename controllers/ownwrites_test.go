package controllers_test

import (
	"context"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/controllers"
)

var _ = Describe("a reconcile from a view older than its own writes", func() {
	It("writes nothing until the watch brings them, then carries on", func() {
		ns := newNamespace()
		names := []string{"m0", "m1"}
		for i, name := range names {
			newCommand(ns, name).Type("external-step").In("a", i, len(names)).Create()
		}
		reads := &laggingReads{Client: k8s}
		clk := clocktesting.NewFakeClock(time.Now())
		h := controllers.NewUnitReconciler(reads, k8s, events.NewFakeRecorder(100), clk, ns, "a", testOptions())
		watch := func() { // what the command watch brings: the stored commands
			for _, name := range names {
				h.File(getCommand(ns, name))
			}
		}
		reconcile := func() ctrl.Result {
			GinkgoHelper()
			res, err := h.Reconcile(suiteCt)
			Expect(err).NotTo(HaveOccurred())
			return res
		}
		// Every write to baton's kinds the API server served, conflicts included.
		sent := func() float64 {
			return total(apiRequests(func(verb, _ string) bool { return verb == "PATCH" || verb == "POST" }))
		}

		watch()
		reconcile() // creates the sequence, writes it Running and opens m0's gate
		m0 := getCommand(ns, "m0")
		Expect(m0.Labels).To(HaveKeyWithValue(batonv1.LabelGate, batonv1.GateOpen))
		Expect(m0.Status.Phase).To(Equal(batonv1.CommandReady))
		Expect(getSequence(ns, batonv1.SequenceName("a")).Status.Phase).To(Equal(batonv1.SequenceRunning))

		By("the index still holding m0 from before its gate opened")
		before := sent()
		res := reconcile()
		Expect(sent()-before).To(BeZero(), "writes sent from a stale view")
		Expect(res.RequeueAfter).To(BeNumerically(">", 0), "a safety requeue")

		By("once the view shows them: nothing left to write, and m1 still waits")
		watch()
		before = sent()
		reconcile()
		Expect(sent() - before).To(BeZero())
		Expect(getCommand(ns, "m1").Labels).NotTo(HaveKey(batonv1.LabelGate))

		By("the cache stops at that version; the executor reports m0; a second later, progress written")
		report := func(name string) {
			GinkgoHelper()
			patch := []byte(`{"status":{"started":true,"completed":true,"completedAt":"` + time.Now().UTC().Format(time.RFC3339) + `"}}`)
			Expect(k8s.Status().Patch(suiteCt, getCommand(ns, name), client.RawPatch(types.MergePatchType, patch))).To(Succeed())
		}
		reads.freeze(ns, batonv1.SequenceName("a"))
		report("m0")
		watch()
		reconcile()
		Expect(getCommand(ns, "m0").Status.Phase).To(Equal(batonv1.CommandSucceeded))
		Expect(getCommand(ns, "m1").Labels).To(HaveKeyWithValue(batonv1.LabelGate, batonv1.GateOpen))
		watch()
		clk.Step(time.Second)
		before = sent()
		reconcile()
		Expect(sent()-before).To(Equal(1.0), "the progress write")
		Expect(getSequence(ns, batonv1.SequenceName("a")).Status.Progress).To(Equal("1/2"))

		By("the executor reports m1 while the cache still shows the sequence from before that write")
		report("m1")
		watch()
		before = sent()
		reconcile()
		Expect(sent()-before).To(Equal(1.0), "m1's final phase, and no sequence write from a stale version")
		Expect(getCommand(ns, "m1").Status.Phase).To(Equal(batonv1.CommandSucceeded))
		Expect(getSequence(ns, batonv1.SequenceName("a")).Status.Phase).To(Equal(batonv1.SequenceRunning))

		By("once the watch brings m1's final phase and the sequence: it ends Succeeded, with one write")
		watch()
		reads.thaw()
		before = sent()
		reconcile()
		Expect(sent() - before).To(Equal(1.0))
		Expect(getSequence(ns, batonv1.SequenceName("a")).Status.Phase).To(Equal(batonv1.SequenceSucceeded))
	})
})

// laggingReads is a client whose reads of a CommandSequence can be frozen at the version
// stored when freeze was called, as a cache the watch has not caught up with shows it.
type laggingReads struct {
	client.Client
	mu     sync.Mutex
	frozen map[client.ObjectKey]*batonv1.CommandSequence
}

func (l *laggingReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	l.mu.Lock()
	old := l.frozen[key]
	l.mu.Unlock()
	if seq, ok := obj.(*batonv1.CommandSequence); ok && old != nil {
		old.DeepCopyInto(seq)
		return nil
	}
	return l.Client.Get(ctx, key, obj, opts...)
}

func (l *laggingReads) freeze(ns, name string) {
	seq := getSequence(ns, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frozen = map[client.ObjectKey]*batonv1.CommandSequence{client.ObjectKeyFromObject(seq): seq}
}

func (l *laggingReads) thaw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frozen = nil
}
