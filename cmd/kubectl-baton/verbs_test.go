package main

import (
	"context"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/internal/operatorsim"
)

// seen is what the simulated operator saw of one command.
type seen struct {
	event            watch.EventType
	name             string
	gate             string
	predecessorPhase batonv1.CommandPhase
}

var _ = Describe("submit --executor operator", func() {
	It("writes the held form, which an operator-like watcher sees ADDED only when its turn comes", func() {
		ns := namespace("ux-external")
		var mu sync.Mutex
		var events []seen
		ctx, stop := context.WithCancel(suiteCtx)
		done := make(chan struct{})
		op := &operatorsim.Operator{Client: k8s, Namespace: ns, Vulnerability: true, Seen: func(t watch.EventType, cmd *batonv1.OperatorCommand) {
			prepare := &batonv1.OperatorCommand{}
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ext-prepare"}, prepare)).To(Succeed())
			mu.Lock()
			defer mu.Unlock()
			events = append(events, seen{t, cmd.Name, cmd.Labels[batonv1.LabelGate], prepare.Status.Phase})
		}}
		go func() {
			defer GinkgoRecover()
			defer close(done)
			Expect(op.Run(ctx)).To(Succeed())
		}()
		DeferCleanup(func() { stop(); <-done })

		file := writeFile(`
sequence: ext
ttl: 2m
steps:
- {name: ext-prepare, type: sleep, args: {duration: 2s}}
- {name: ext-scan, type: StartCVEScan, args: {wlid: "wlid://cluster-a/namespace-b/deployment-c"}}
- {name: ext-report, type: expr, args: {expression: 'steps["1"].payload.scanned'}}
`)
		r := kubectlBaton("submit", "-f", file, "--executor", "operator", "-n", ns)
		Expect(r.code).To(Equal(0))
		scan := &batonv1.OperatorCommand{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "ext-scan"}, scan)).To(Succeed())
		Expect(scan.Labels).NotTo(HaveKey(batonv1.LabelAppName), "the routing label is held back")
		Expect(scan.Annotations).To(HaveKeyWithValue(batonv1.AnnotationGateLabels, `{"kubescape.io/app-name":"operator"}`))

		r = kubectlBaton("watch", "ext", "-n", ns)
		Expect(r.code).To(Equal(0))
		r = kubectlBaton("report", "ext", "-n", ns)
		expectGolden("report-external", r.stdout)

		mu.Lock()
		defer mu.Unlock()
		Expect(events).NotTo(BeEmpty())
		Expect(events[0]).To(Equal(seen{watch.Added, "ext-scan", batonv1.GateOpen, batonv1.CommandSucceeded}),
			"first seen as ADDED with its gate open, after its predecessor succeeded")
		for _, e := range events[1:] {
			Expect(e.event).NotTo(Equal(watch.Added), "ADDED once")
			Expect(e.name).To(Equal("ext-scan"), "only the held command is routed to the operator")
		}
	})
})

var _ = Describe("retry", func() {
	It("runs the failed member and the later ones again, and not the earlier succeeded ones, whose payloads conditions still read", func() {
		ns := namespace("ux-retry")
		handlers.failing.Store(true)
		file := writeFile(`
sequence: rt
ttl: 2m
steps:
- {name: rt-fetch, type: count, args: {image: "nginx:1.27"}}
- name: rt-scan
  type: flaky
  when: 'steps["rt-fetch"].payload.image == "nginx:1.27"'
- {name: rt-report, type: expr, args: {expression: 'steps["1"].payload.ok'}}
`)
		r := kubectlBaton("submit", "-f", file, "--wait", "-n", ns)
		Expect(r.code).To(Equal(1), "the sequence Failed")
		Expect(handlers.runsOf("rt-fetch")).To(Equal(1))

		handlers.failing.Store(false)
		r = kubectlBaton("retry", "rt", "--wait", "-n", ns)
		Expect(r.code).To(Equal(0), r.stderr)
		expectGolden("retry", r.stdout[strings.Index(r.stdout, "\n\n")+2:])
		Expect(r.stdout).To(HavePrefix("sequence rt-retry-1 created from rt\n  copied as finished: rt-fetch-retry-1\n  to run again:       rt-scan-retry-1, rt-report-retry-1\n"))
		Expect(handlers.runsOf("rt-fetch")).To(Equal(1), "the copy did not run")
		Expect(handlers.runsOf("rt-fetch-retry-1")).To(Equal(0), "the copy did not run")

		copied := &batonv1.OperatorCommand{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "rt-fetch-retry-1"}, copied)).To(Succeed())
		Expect(copied.Annotations).To(HaveKeyWithValue(batonv1.AnnotationRetryOf, "rt"))
		Expect(copied.Annotations).NotTo(HaveKey(batonv1.AnnotationGateLabels))
		Expect(copied.Status.Executer).To(Equal("baton-test"))
		Expect(string(copied.Status.Payload)).To(Equal(`{"image":"nginx:1.27"}`))
		rerun := &batonv1.OperatorCommand{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "rt-scan-retry-1"}, rerun)).To(Succeed())
		Expect(rerun.Annotations).To(HaveKeyWithValue(batonv1.AnnotationWhen, `steps["rt-fetch"].payload.image == "nginx:1.27"`),
			"conditions are not rewritten")
		Expect(rerun.Annotations).To(HaveKeyWithValue(batonv1.AnnotationStep, "rt-scan"))
		Expect(copied.Annotations).To(HaveKeyWithValue(batonv1.AnnotationStep, "rt-fetch"))

		r = kubectlBaton("retry", "rt-retry-1", "-n", ns)
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("sequence ux-retry/rt-retry-1 is Succeeded: only a Failed sequence can be retried"))
	})
})

var _ = Describe("cancel", func() {
	It("cancels a running sequence: the running handler's context ends, the rest is Skipped, the sequence Failed with Cancelled", func() {
		ns := namespace("ux-cancel")
		file := writeFile(`
sequence: cc
ttl: 2m
steps:
- {name: cc-block, type: block}
- {name: cc-after, type: noop}
`)
		Expect(kubectlBaton("submit", "-f", file, "-n", ns).code).To(Equal(0))
		Eventually(handlers.blocked, 30*time.Second).Should(Receive(Equal("cc-block")))
		Consistently(handlers.cancelled, 500*time.Millisecond).ShouldNot(Receive(), "it blocks until cancelled")

		r := kubectlBaton("cancel", "cc", "-n", ns)
		Expect(r.code).To(Equal(0))
		Expect(r.stdout).To(Equal("commandsequence/cc cancel requested\n"))
		seq := &batonv1.CommandSequence{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "cc"}, seq)).To(Succeed())
		Expect(seq.Annotations).To(HaveKeyWithValue(batonv1.AnnotationCancel, "true"))

		// Long before its 2m TTL, the handler sees its context end.
		Eventually(handlers.cancelled, 30*time.Second).Should(Receive(Equal("cc-block")))
		r = kubectlBaton("watch", "cc", "-n", ns)
		Expect(r.code).To(Equal(1))
		Expect(r.stdout).To(HaveSuffix("cc: Failed 2/2 (Cancelled)\n"))
		r = kubectlBaton("describe", "cc", "-n", ns)
		Expect(r.code).To(Equal(0))
		expectGolden("describe-cancelled", r.stdout)

		r = kubectlBaton("cancel", "cc", "-n", ns)
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("sequence ux-cancel/cc has already finished: Failed"))
	})
})
