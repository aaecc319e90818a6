package controllers_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/controllers"
	"github.com/batonhq/baton/steps"
)

// A result the API server refuses for good (DESIGN 4) fails the step with ResultRejected
// and the server's message, written without the payload; the handler is not run again and
// the step is never taken for one whose executor was lost (issue 20, item 4).
var _ = Describe("a result the API server refuses", func() {
	It("fails the step with ResultRejected and the server's message, its handler run once", func() {
		ns := newNamespace()
		h := newHandlers(ns)
		refuseLongPayloads(ns)

		startManager(testOptions(), h)
		// The record handler's payload, {"earlier":0,"name":"x"}, is 24 bytes.
		newCommand(ns, "x").TTL(time.Minute).Create()

		Eventually(phaseOf(ns, "x"), wait).Should(Equal(batonv1.CommandFailed))
		x := getCommand(ns, "x")
		Expect(x.Status.Error).NotTo(BeNil())
		Expect(x.Status.Error.Reason).To(Equal(batonv1.ReasonResultRejected))
		Expect(x.Status.Error.Message).To(ContainSubstring("payloads over 12 bytes are refused here"), "the server's message")
		Expect(x.Status.Payload).To(BeEmpty(), "written without the payload")
		Expect(x.Status.Completed).To(BeTrue())
		Expect(h.count("x")).To(Equal(1), "its handler ran once")
		Eventually(eventsFor(ns, "x"), wait).Should(ContainElement(HavePrefix("Warning " + batonv1.ReasonResultRejected)))
	})
})

// refuseLongPayloads makes the API server refuse, in namespace ns, a command status whose
// payload is over 12 bytes, with a ValidatingAdmissionPolicy on the status subresource, and
// waits until it does. (The policy sees status.payload as its base64 text, 16 characters
// for 12 bytes, and Kubernetes' CEL cannot decode base64: it refuses by size.)
func refuseLongPayloads(ns string) {
	fail := admissionv1.Fail
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "refuse-long-payloads-" + ns},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Update},
					Rule: admissionv1.Rule{APIGroups: []string{batonv1.GroupVersion.Group},
						APIVersions: []string{batonv1.GroupVersion.Version}, Resources: []string{"operatorcommands/status"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: `!has(object.status.payload) || size(object.status.payload) <= 16`,
				Message:    "payloads over 12 bytes are refused here",
			}},
		},
	}
	Expect(k8s.Create(suiteCt, policy)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(context.Background(), policy))).To(Succeed()) })
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: policy.Name},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        policy.Name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns}}},
		},
	}
	Expect(k8s.Create(suiteCt, binding)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(context.Background(), binding))).To(Succeed()) })

	By("waiting until the policy refuses a probe's status (before any manager runs)")
	probe := newCommand(ns, "probe").Type("ScanImage").Create()
	Eventually(func() error {
		p := getCommand(ns, "probe")
		orig := p.DeepCopy()
		p.Status.Payload = []byte(`"a probe of 24 bytes ..."`)
		return k8s.Status().Patch(suiteCt, p, client.MergeFrom(orig))
	}, wait, 100*time.Millisecond).Should(MatchError(ContainSubstring("payloads over 12 bytes are refused here")))
	Expect(k8s.Delete(suiteCt, probe)).To(Succeed())
}

// A sequence whose members all vanish before its first status write ends
// Failed/CommandsDeleted (DESIGN 5) like any other: terminal, no longer active.
var _ = Describe("a sequence whose members vanish before its first status write", func() {
	It("ends Failed with CommandsDeleted, and is no longer counted active", func() {
		ns := newNamespace()
		h := newHandlers(ns)
		startManager(testOptions(), h)

		a := newCommand(ns, "a").In("vanish", 0, 3).TTL(time.Minute).Create()
		var seq batonv1.CommandSequence
		Eventually(func() error {
			return k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: "vanish"}, &seq)
		}, wait, 10*time.Millisecond).Should(Succeed())
		// Its first status write comes a progress interval (1 s) after the manager first
		// decided it, just before it created it: measured from there, not from the
		// command's create, which a manager still syncing its caches may take seconds to see.
		seen := time.Now()
		Expect(k8s.Delete(suiteCt, a)).To(Succeed())
		Expect(time.Since(seen)).To(BeNumerically("<", 500*time.Millisecond), "deleted within 500 ms of the sequence's creation")
		Expect(seq.Status.Phase).To(BeEmpty(), "its status was not written yet")

		Eventually(sequencePhase(ns, "vanish"), wait).Should(Equal(batonv1.SequenceFailed))
		got := getSequence(ns, "vanish")
		Expect(got.Status.Reason).To(Equal(batonv1.ReasonCommandsDeleted))
		Expect(got.Status.CompletedAt).NotTo(BeNil())
		Expect(got.Status.Report).NotTo(BeNil())
		Expect(got.Status.Report.Complete).To(BeFalse())
		Eventually(activeSequences, wait).Should(BeZero())
	})
})

// activeSequences reads baton_active_sequences from controller-runtime's registry: the
// running manager's count (a stopped spec's manager sets it no more).
func activeSequences() float64 {
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() == "baton_active_sequences" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	Fail("baton_active_sequences is not registered")
	return 0
}

// A command that carries a routing label may already be in its executor's hands; the
// Kubescape operator drops a command modified within its cooldown. baton reads its string
// TTL and writes nothing to it before the executor reports (DESIGN 1).
var _ = Describe("a command carrying a routing label with a duration-string ttl", func() {
	It("is never written by baton before its executor reports", func() {
		ns := newNamespace()
		h := newHandlers(ns)
		startManager(testOptions(), h)
		ctx, cancel := context.WithCancel(suiteCt)
		defer cancel()
		w, err := k8s.Watch(ctx, &batonv1.OperatorCommandList{}, client.InNamespace(ns))
		Expect(err).NotTo(HaveOccurred())
		defer w.Stop()

		routed := func(name string, labels map[string]any, spec map[string]any) {
			labels[batonv1.LabelAppName] = "operator"
			u := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "kubescape.io/v1alpha1", "kind": "OperatorCommand",
				"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels},
				"spec":     spec,
			}}
			Expect(k8s.Create(suiteCt, u)).To(Succeed())
		}
		routed("standalone", map[string]any{}, map[string]any{"guid": "standalone", "commandType": "StartCVEScan", "ttl": "5m"})
		newCommand(ns, "first").In("routed", 0, 2).Type("block").TTL(time.Minute).Create()
		routed("member", map[string]any{batonv1.LabelSequence: "routed"}, map[string]any{"guid": "member",
			"commandType": "StartCVEScan", "ttl": "5m", "commandIndex": int64(1), "commandCount": int64(2)})

		By("baton deciding the member (it warns it Ungated) before its gate opens and its executor reports")
		Eventually(eventsFor(ns, "member"), wait).Should(ContainElement(HavePrefix("Warning " + batonv1.ReasonUngated)))
		h.unblock("first")
		Eventually(phaseOf(ns, "first"), wait).Should(Equal(batonv1.CommandSucceeded))
		reported := map[string]string{}
		for _, name := range []string{"standalone", "member"} {
			cmd := getCommand(ns, name)
			Expect(cmd.Spec.TTL.Std()).To(Equal(5*time.Minute), "the string is read")
			orig := cmd.DeepCopy()
			now := metav1.NewTime(time.Now().Truncate(time.Second))
			cmd.Status.Started, cmd.Status.StartedAt, cmd.Status.Executer = true, &now, "operator"
			cmd.Status.Completed, cmd.Status.CompletedAt, cmd.Status.Payload = true, &now, []byte(`{"ok":true}`)
			Expect(k8s.Status().Patch(suiteCt, cmd, client.MergeFrom(orig))).To(Succeed())
			reported[name] = cmd.ResourceVersion
		}
		Eventually(sequencePhase(ns, "routed"), wait).Should(Equal(batonv1.SequenceSucceeded))

		By("every change the watch saw before the executor's report")
		left := len(reported)
		for left > 0 {
			var e watch.Event
			Eventually(w.ResultChan(), wait).Should(Receive(&e))
			cmd, ok := e.Object.(*batonv1.OperatorCommand)
			Expect(ok).To(BeTrue(), "watch event %s of %T", e.Type, e.Object)
			rv, mine := reported[cmd.Name] // "first" is baton's to write
			if !mine || rv == "" {
				continue // done: what follows the report is not this spec's business
			}
			if cmd.ResourceVersion == rv {
				reported[cmd.Name], left = "", left-1
				continue
			}
			Expect(e.Type).To(Equal(watch.Added), "%s was modified before its executor reported: %+v %+v",
				cmd.Name, cmd.ManagedFields, cmd.Spec)
		}
	})
})

// A command whose type has in-process handlers, but not at its commandVersion, is left to
// an external executor (another component may serve that version), and a Warning event
// says so when its gate opens, so a mistyped version is seen at once, not at its TTL.
var _ = Describe("a command type handled in-process at other versions only", func() {
	It("is left to an external executor, with a Warning UnknownVersion naming the versions served", func() {
		ns := newNamespace()
		h := newHandlers(ns)
		startManager(testOptions(), h)
		v1 := newCommand(ns, "v1").Type("versioned").TTL(time.Minute).Obj()
		v1.Spec.CommandVersion = "v1"
		Expect(k8s.Create(suiteCt, v1)).To(Succeed())

		Eventually(func() map[string]string { return getCommand(ns, "v1").Labels }, wait).
			Should(HaveKeyWithValue(batonv1.LabelGate, batonv1.GateOpen))
		Eventually(eventsFor(ns, "v1"), wait).Should(ContainElement(And(
			HavePrefix("Warning "+batonv1.ReasonUnknownVersion), ContainSubstring(`"v2"`))))
		Expect(h.count("v1")).To(BeZero(), "the v2 handler never runs a v1 command")
		Expect(getCommand(ns, "v1").Status.Completed).To(BeFalse(), "left to its executor until its TTL")
	})
})

// discardEvents is an event recorder that records nothing.
type discardEvents struct{}

func (discardEvents) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {}

// A cancel that comes with a free slot, at once after the start, wins over the claim: the
// handler is never entered, and no claim lands after the cancel (issue 20, item 5).
var _ = Describe("the runner, cancelled at once after a start with a free slot", func() {
	It("never enters the handler, and no claim outlives the cancel (200 times)", func() {
		ns := newNamespace()
		var entered atomic.Int32
		registry := steps.NewRegistry()
		registry.MustRegister("count", "", steps.HandlerFunc(func(context.Context, steps.Request) (any, error) {
			entered.Add(1)
			return "ran", nil
		}))
		// The claim's write takes 100 ms here: "at once" must mean before the handler could
		// begin after a claim, even when this goroutine is starved for a few milliseconds
		// on a loaded machine (the handler of a claim that lands before the cancel is
		// entered only once its context was checked, after that write).
		slowClaims := interceptor.NewClient(k8s, interceptor.Funcs{
			SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
				time.Sleep(100 * time.Millisecond)
				return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
			},
		})
		r := controllers.NewStepRunner(slowClaims, discardEvents{}, registry)
		DeferCleanup(r.Stop)
		const runs = 200
		for i := range runs {
			cmd := newCommand(ns, fmt.Sprintf("cancel-%d", i)).Type("count").TTL(time.Minute).Create()
			r.StartThenCancel(cmd, time.Now().Add(time.Minute))
		}
		Expect(entered.Load()).To(BeZero(), "the handler was entered after its cancel")

		var list batonv1.OperatorCommandList
		Expect(k8s.List(suiteCt, &list, client.InNamespace(ns))).To(Succeed())
		Expect(list.Items).To(HaveLen(runs))
		claimed := 0
		for _, cmd := range list.Items {
			if !cmd.Status.Started {
				continue
			}
			// Claimed before the cancel came: it ends Failed/Cancelled, its handler unrun.
			claimed++
			Expect(cmd.Status.Phase).To(Equal(batonv1.CommandFailed), "%s: a claim that outlived the cancel", cmd.Name)
			Expect(cmd.Status.Error.Reason).To(Equal(batonv1.ReasonCancelled))
		}
		GinkgoWriter.Printf("%d of %d claimed before their cancel came\n", claimed, runs)
	})
})

// The plan's statuses share pointers (one completedAt for every write of a plan, and the
// cached objects' own timestamps): a write's response must never be decoded into them
// while other goroutines read them (issue 20, item 9; run under -race).
var _ = Describe("applying a member's planned status", func() {
	It("copies the plan's status: the write's response is not decoded into it", func() {
		ns := newNamespace()
		cached := newCommand(ns, "shared").Type("ScanImage").TTL(time.Minute).Create()
		// A sub-second instant: what the API server returns is truncated to the second.
		stamp := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC))
		boom := &batonv1.OperatorCommandStatusError{Reason: batonv1.ReasonHandlerFailed, Message: "boom"}
		want := &batonv1.OperatorCommandStatus{Phase: batonv1.CommandFailed, Completed: true, CompletedAt: &stamp,
			Started: true, StartedAt: &stamp, Message: "failed", Error: boom}

		var readers sync.WaitGroup
		stop := make(chan struct{})
		for range 2 { // other members' writes and the sequence's status read the same stamp
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					select {
					case <-stop:
						return
					default:
						_ = stamp.Time.String() + boom.Message
					}
				}
			}()
		}
		err := controllers.ApplyStatus(suiteCt, k8s, discardEvents{}, cached, want)
		close(stop)
		readers.Wait()
		Expect(err).NotTo(HaveOccurred())
		Expect(stamp.Time.Nanosecond()).To(Equal(600_000_000), "the plan's instant was overwritten by the response")
		Expect(want.Error).To(BeIdenticalTo(boom))
		Expect(cached.Status.CompletedAt).To(BeNil(), "the cached object is never written through")
		stored := getCommand(ns, "shared")
		Expect(stored.Status.Phase).To(Equal(batonv1.CommandFailed))
		Expect(stored.Status.CompletedAt.Time).To(BeTemporally("==", stamp.Time.Truncate(time.Second)))
	})
})
