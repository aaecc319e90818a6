package steps_test

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/steps"
)

// waitResult is what a wait step running in the background returned.
type waitResult struct {
	payload any
	err     error
}

// startWait runs the command's handler in the background, as the engine does.
func startWait(ctx context.Context, h steps.Handler, cmd *commandBuilder) <-chan waitResult {
	done := make(chan waitResult, 1)
	go func() {
		defer GinkgoRecover()
		payload, err := h.Run(ctx, steps.Request{Command: cmd.Obj(), Logger: GinkgoLogr})
		done <- waitResult{payload, err}
	}()
	return done
}

func waitHandler() steps.Handler {
	h, ok := registry.Lookup(steps.TypeWait, "")
	Expect(ok).To(BeTrue())
	return h
}

func waitFor(ns, kind, name string, condition any) *commandBuilder {
	apiVersion := "v1"
	if kind == "CommandSequence" {
		apiVersion = batonv1.GroupVersion.String()
	}
	return newCommand(steps.TypeWait).Namespace(ns).
		Arg("apiVersion", apiVersion).Arg("kind", kind).Arg("name", name).Arg("condition", condition)
}

func newSequence(ns, name string) *batonv1.CommandSequence {
	seq := &batonv1.CommandSequence{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       batonv1.CommandSequenceSpec{Key: name},
	}
	Expect(k8s.Create(suiteCtx, seq)).To(Succeed())
	return seq
}

// setSequenceStatus writes the status subresource as a controller would.
func setSequenceStatus(seq *batonv1.CommandSequence, phase batonv1.SequencePhase, ready metav1.ConditionStatus) {
	Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(seq), seq)).To(Succeed())
	seq.Status.Phase = phase
	meta.SetStatusCondition(&seq.Status.Conditions, metav1.Condition{
		Type: "Ready", Status: ready, Reason: "Test", Message: "set by the test", ObservedGeneration: seq.Generation,
	})
	Expect(k8s.Status().Update(suiteCtx, seq)).To(Succeed())
}

var _ = Describe("wait", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	It("waits for a status condition, through changes that do not match", func() {
		seq := newSequence(ns, "seq")
		done := startWait(suiteCtx, waitHandler(), waitFor(ns, "CommandSequence", "seq",
			map[string]any{"type": "Ready", "status": "True"}))

		setSequenceStatus(seq, batonv1.SequenceRunning, metav1.ConditionFalse)
		Consistently(done, "300ms").ShouldNot(Receive())
		setSequenceStatus(seq, batonv1.SequenceSucceeded, metav1.ConditionTrue)

		var res waitResult
		Eventually(done, "10s").Should(Receive(&res))
		Expect(res.err).NotTo(HaveOccurred())
		status := normalize(GinkgoT(), res.payload).(map[string]any)
		Expect(status).To(HaveKeyWithValue("phase", "Succeeded"))
		Expect(status["conditions"]).To(ContainElement(HaveKeyWithValue("status", "True")))
	})

	It("returns at once when the object already matches", func() {
		seq := newSequence(ns, "done")
		setSequenceStatus(seq, batonv1.SequenceSucceeded, metav1.ConditionTrue)
		payload, err := run(suiteCtx, waitFor(ns, "CommandSequence", "done", map[string]any{"type": "Ready"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(payload).To(HaveKeyWithValue("phase", "Succeeded"))
	})

	It("waits for an object to be created and match an expression", func() {
		done := startWait(suiteCtx, waitHandler(), waitFor(ns, "ConfigMap", "flag",
			`object.data.state == "go"`))
		Consistently(done, "200ms").ShouldNot(Receive())

		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "flag"}, Data: map[string]string{"state": "wait"}}
		Expect(k8s.Create(suiteCtx, cm)).To(Succeed())
		Consistently(done, "200ms").ShouldNot(Receive())
		cm.Data["state"] = "go"
		Expect(k8s.Update(suiteCtx, cm)).To(Succeed())

		var res waitResult
		Eventually(done, "10s").Should(Receive(&res))
		Expect(res.err).NotTo(HaveOccurred())
		Expect(res.payload).To(Equal(map[string]any{}), "a ConfigMap has no status")
	})

	It("treats an expression that cannot be evaluated yet as not matching", func() {
		seq := newSequence(ns, "counted")
		done := startWait(suiteCtx, waitHandler(), waitFor(ns, "CommandSequence", "counted",
			map[string]any{"expression": `object.status.counts.succeeded >= 2`}))
		Consistently(done, "300ms").ShouldNot(Receive(), "status.counts is not set yet")

		Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(seq), seq)).To(Succeed())
		seq.Status.Counts = batonv1.SequenceCounts{Total: 3, Succeeded: 2}
		Expect(k8s.Status().Update(suiteCtx, seq)).To(Succeed())

		var res waitResult
		Eventually(done, "10s").Should(Receive(&res))
		Expect(res.err).NotTo(HaveOccurred())
		Expect(normalize(GinkgoT(), res.payload)).To(HaveKeyWithValue("counts",
			map[string]any{"total": 3.0, "succeeded": 2.0}))
	})

	It("watches again when the watch closes", func() {
		short := &shortWatches{WithWatch: k8s, lifetime: 1500 * time.Millisecond}
		done := startWait(suiteCtx, &steps.Wait{Client: short}, waitFor(ns, "ConfigMap", "late", `object.data.v == "1"`))
		Eventually(short.opened.Load, "10s").Should(BeNumerically(">=", 2), "the first watch closed and a second opened")

		Expect(k8s.Create(suiteCtx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "late"}, Data: map[string]string{"v": "1"},
		})).To(Succeed())
		var res waitResult
		Eventually(done, "10s").Should(Receive(&res))
		Expect(res.err).NotTo(HaveOccurred())
	})

	It("ends with the context's error, saying what it last saw", func() {
		newSequence(ns, "stuck")
		ctx, cancel := context.WithTimeout(suiteCtx, 500*time.Millisecond)
		defer cancel()
		_, err := run(ctx, waitFor(ns, "CommandSequence", "stuck", map[string]any{"type": "Ready"}))
		Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(ContainSubstring("last seen at resourceVersion")))
		Expect(steps.IsRetryable(err)).To(BeFalse())

		ctx, cancel = context.WithTimeout(suiteCtx, 300*time.Millisecond)
		defer cancel()
		_, err = run(ctx, waitFor(ns, "ConfigMap", "absent", `object.data != nil`))
		Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue(), "got %v", err)
		Expect(err).To(MatchError(ContainSubstring("never seen")))
	})

	It("fails permanently on bad args, without waiting", func() {
		for condition, want := range map[string]string{
			`object.data.`:    "the condition expression: compiling expression",
			`obj.data != nil`: "the condition expression: compiling expression",
			`now() != nil`:    "the condition expression: compiling expression: unknown name now",
		} {
			_, err := run(suiteCtx, waitFor(ns, "ConfigMap", "x", condition))
			Expect(err).To(MatchError(ContainSubstring(want)), condition)
			Expect(steps.IsRetryable(err)).To(BeFalse())
		}
		_, err := run(suiteCtx, newCommand(steps.TypeWait).Namespace(ns).Arg("kind", "ConfigMap").Arg("condition", "true"))
		Expect(err).To(MatchError(ContainSubstring("args.apiVersion, args.kind and args.name are required")))
	})

	It("fails permanently when the API refuses to list the kind", func() {
		ctx, cancel := context.WithTimeout(suiteCtx, 10*time.Second)
		defer cancel()
		_, err := run(ctx, newCommand(steps.TypeWait).Namespace(ns).
			Arg("apiVersion", "authorization.k8s.io/v1").Arg("kind", "SelfSubjectAccessReview").
			Arg("name", "x").Arg("condition", "true"))
		Expect(err).To(HaveOccurred())
		Expect(errors.Is(err, context.DeadlineExceeded)).To(BeFalse(), "it must not wait: %v", err)
		Expect(err).To(MatchError(ContainSubstring("watching SelfSubjectAccessReview")))
		Expect(steps.IsRetryable(err)).To(BeFalse())
	})
})

// shortWatches is the suite's real client whose watches the "server" closes after lifetime,
// as an API server does after its request timeout.
type shortWatches struct {
	client.WithWatch
	lifetime time.Duration
	opened   atomic.Int32
}

func (s *shortWatches) Watch(ctx context.Context, list client.ObjectList, opts ...client.ListOption) (watch.Interface, error) {
	w, err := s.WithWatch.Watch(ctx, list, opts...)
	if err == nil {
		s.opened.Add(1)
		time.AfterFunc(s.lifetime, w.Stop)
	}
	return w, err
}
