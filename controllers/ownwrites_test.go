package controllers_test

import (
	"context"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/controllers"
)

// unitUnderTest drives one two-member external sequence "a" by hand (NewUnitReconciler),
// with its cached reads of the CommandSequence held back as a spec says.
type unitUnderTest struct {
	ns    string
	names []string
	reads *laggingReads
	clk   *clocktesting.FakeClock
	h     *controllers.UnitReconciler
}

func newUnitUnderTest() *unitUnderTest {
	t := &unitUnderTest{ns: newNamespace(), names: []string{"m0", "m1"}, reads: &laggingReads{Client: k8s},
		clk: clocktesting.NewFakeClock(time.Now())}
	for i, name := range t.names {
		newCommand(t.ns, name).Type("external-step").In("a", i, len(t.names)).Create()
	}
	t.h = controllers.NewUnitReconciler(t.reads, k8s, events.NewFakeRecorder(100), t.clk, t.ns, "a", testOptions())
	return t
}

// watch files what the command watch would bring: the stored commands.
func (t *unitUnderTest) watch() {
	for _, name := range t.names {
		t.h.File(getCommand(t.ns, name))
	}
}

func (t *unitUnderTest) reconcile() ctrl.Result {
	GinkgoHelper()
	res, err := t.h.Reconcile(suiteCt)
	Expect(err).NotTo(HaveOccurred())
	return res
}

// sent counts every write to baton's kinds the API server served, conflicts included.
func servedWrites() float64 {
	return total(apiRequests(func(verb, _ string) bool { return verb == "PATCH" || verb == "POST" }))
}

var _ = Describe("a reconcile from a view older than its own writes", func() {
	It("writes nothing until the watch brings them, then carries on", func() {
		uut := newUnitUnderTest()
		ns, reads, clk, watch, reconcile := uut.ns, uut.reads, uut.clk, uut.watch, uut.reconcile

		watch()
		reconcile() // creates the sequence and opens m0's gate; Running waits a progress interval
		m0 := getCommand(ns, "m0")
		Expect(m0.Labels).To(HaveKeyWithValue(batonv1.LabelGate, batonv1.GateOpen))
		Expect(m0.Status.Phase).To(Equal(batonv1.CommandReady))
		Expect(getSequence(ns, batonv1.SequenceName("a")).Status.Phase).To(BeEmpty())

		By("the index still holding m0 from before its gate opened")
		before := servedWrites()
		res := reconcile()
		Expect(servedWrites()-before).To(BeZero(), "writes sent from a stale view")
		Expect(res.RequeueAfter).To(BeNumerically(">", 0), "a safety requeue")

		By("once the view shows them: nothing left to write, and m1 still waits")
		watch()
		before = servedWrites()
		reconcile()
		Expect(servedWrites() - before).To(BeZero())
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
		before = servedWrites()
		reconcile()
		Expect(servedWrites()-before).To(Equal(1.0), "the progress write")
		Expect(getSequence(ns, batonv1.SequenceName("a")).Status.Progress).To(Equal("1/2"))
		Expect(getSequence(ns, batonv1.SequenceName("a")).Status.Phase).To(Equal(batonv1.SequenceRunning), "with its change to Running")

		By("the executor reports m1 while the cache still shows the sequence from before that write")
		report("m1")
		watch()
		before = servedWrites()
		reconcile()
		Expect(servedWrites()-before).To(Equal(1.0), "m1's final phase, and no sequence write from a stale version")
		Expect(getCommand(ns, "m1").Status.Phase).To(Equal(batonv1.CommandSucceeded))
		Expect(getSequence(ns, batonv1.SequenceName("a")).Status.Phase).To(Equal(batonv1.SequenceRunning))

		By("once the watch brings m1's final phase and the sequence: it ends Succeeded, with one write")
		watch()
		reads.thaw()
		before = servedWrites()
		reconcile()
		Expect(servedWrites() - before).To(Equal(1.0))
		Expect(getSequence(ns, batonv1.SequenceName("a")).Status.Phase).To(Equal(batonv1.SequenceSucceeded))
	})

	It("keeps waiting for a sequence its cache has not shown at all", func() {
		uut := newUnitUnderTest()
		name := batonv1.SequenceName("a")
		uut.reads.hide()
		uut.watch()
		uut.reconcile() // creates the sequence; Running waits a progress interval
		Expect(getSequence(uut.ns, name).Status.Phase).To(BeEmpty())
		uut.watch() // the view shows m0's gate opened; the sequence is still unseen
		uut.clk.Step(time.Second)
		uut.reconcile() // writes it Running through the one it created
		Expect(getSequence(uut.ns, name).Status.Phase).To(Equal(batonv1.SequenceRunning))

		By("still unseen: the reconcile works from the sequence it created")
		uut.watch()
		before := servedWrites()
		uut.reconcile()
		Expect(servedWrites() - before).To(BeZero())

		By("the cache shows the sequence as created, before its Running")
		uut.reads.showCreated()
		before = servedWrites()
		uut.reconcile()
		Expect(servedWrites()-before).To(BeZero(), "a sequence write from the created version")

		By("the cache catches up")
		uut.reads.thaw()
		before = servedWrites()
		uut.reconcile()
		Expect(servedWrites() - before).To(BeZero())
		Expect(getSequence(uut.ns, name).Status.Phase).To(Equal(batonv1.SequenceRunning))
	})
})

// laggingReads is a client whose reads of CommandSequences can be held back, as a cache
// the watch has not caught up with shows them: hidden, shown as created, or frozen at the
// version stored when freeze was called.
type laggingReads struct {
	client.Client
	mu      sync.Mutex
	hidden  bool
	frozen  map[client.ObjectKey]*batonv1.CommandSequence
	created map[client.ObjectKey]*batonv1.CommandSequence
}

func (l *laggingReads) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if seq, ok := obj.(*batonv1.CommandSequence); ok {
		l.mu.Lock()
		hidden, old := l.hidden, l.frozen[key]
		l.mu.Unlock()
		switch {
		case hidden:
			return apierrors.NewNotFound(batonv1.GroupVersion.WithResource("commandsequences").GroupResource(), key.Name)
		case old != nil:
			old.DeepCopyInto(seq)
			return nil
		}
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

func (l *laggingReads) hide() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hidden = true
}

func (l *laggingReads) showCreated() {
	l.mu.Lock()
	defer l.mu.Unlock()
	Expect(l.created).NotTo(BeEmpty(), "no sequence was created")
	l.hidden, l.frozen = false, l.created
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
	l.hidden, l.frozen = false, nil
}
