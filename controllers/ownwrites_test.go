package controllers_test

import (
	"context"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
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
		pending := getCommand(ns, "m0")
		reconcile() // creates the sequence and opens m0's gate; Running waits a second
		m0 := getCommand(ns, "m0")
		Expect(m0.Labels).To(HaveKeyWithValue(batonv1.LabelGate, batonv1.GateOpen))
		Expect(m0.Status.Phase).To(Equal(batonv1.CommandReady))
		watch()
		clk.Step(time.Second)
		reconcile()
		seq := getSequence(ns, batonv1.SequenceName("a"))
		Expect(seq.Status.Phase).To(Equal(batonv1.SequenceRunning))

		By("the index holding m0 from before its gate opened, the cache the sequence as created")
		h.File(pending)
		reads.freeze()
		before := sent()
		res := reconcile()
		Expect(sent() - before).To(BeZero(), "writes sent from a stale view")
		Expect(res.RequeueAfter).To(BeNumerically(">", 0), "a safety requeue")

		By("once the view shows them: nothing left to write, and m1 still waits")
		watch()
		reads.thaw()
		before = sent()
		reconcile()
		Expect(sent() - before).To(BeZero())
		Expect(getSequence(ns, batonv1.SequenceName("a")).ResourceVersion).To(Equal(seq.ResourceVersion))
		Expect(getCommand(ns, "m1").Labels).NotTo(HaveKey(batonv1.LabelGate))
	})
})

// laggingReads is a client whose reads of CommandSequences can be frozen at the version
// it created, as a cache the watch has not caught up with shows them.
type laggingReads struct {
	client.Client
	mu      sync.Mutex
	created map[client.ObjectKey]*batonv1.CommandSequence
	frozen  bool
}

func (l *laggingReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	l.mu.Lock()
	old := l.created[key]
	frozen := l.frozen
	l.mu.Unlock()
	if seq, ok := obj.(*batonv1.CommandSequence); ok && frozen && old != nil {
		old.DeepCopyInto(seq)
		return nil
	}
	return l.Client.Get(ctx, key, obj, opts...)
}

func (l *laggingReads) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if err := l.Client.Create(ctx, obj, opts...); err != nil {
		return err
	}
	if seq, ok := obj.(*batonv1.CommandSequence); ok {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.created == nil {
			l.created = map[client.ObjectKey]*batonv1.CommandSequence{}
		}
		l.created[client.ObjectKeyFromObject(seq)] = seq.DeepCopy()
	}
	return nil
}

func (l *laggingReads) freeze() {
	l.mu.Lock()
	defer l.mu.Unlock()
	Expect(l.created).NotTo(BeEmpty(), "no sequence was created")
	l.frozen = true
}

func (l *laggingReads) thaw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frozen = false
}
