package main

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

var _ = Describe("step names across retry", func() {
	It("keeps the names an expr step's expression uses: the retry of a failed step ends Succeeded, running nothing twice", func() {
		ns := namespace("ux-stepnames")
		// count echoes its args (a noop that counts its runs); flaky-once fails only its
		// first run.
		file := writeFile(`
sequence: sn
ttl: 2m
steps:
- {name: first, type: count, args: {x: 41}}
- {name: flaky, type: flaky-once, args: {key: sn-flaky}}
- {name: sum, type: expr, args: {expression: 'steps["first"].payload.x + 1'}}
`)
		r := kubectlBaton("submit", "-f", file, "--wait", "-n", ns)
		Expect(r.code).To(Equal(1), "the sequence Failed at flaky")
		Expect(handlers.onceRuns("sn-flaky")).To(Equal(1))

		r = kubectlBaton("retry", "sn", "--wait", "-n", ns)
		Expect(r.code).To(Equal(0), r.stdout+r.stderr)
		Expect(r.stdout).To(HavePrefix("sequence sn-retry-1 created from sn\n  copied as finished: first-retry-1\n  to run again:       flaky-retry-1, sum-retry-1\n"))

		seq := &batonv1.CommandSequence{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "sn-retry-1"}, seq)).To(Succeed())
		Expect(seq.Status.Phase).To(Equal(batonv1.SequenceSucceeded), seq.Status.Message)
		sum := &batonv1.OperatorCommand{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "sum-retry-1"}, sum)).To(Succeed())
		Expect(sum.Annotations).To(HaveKeyWithValue(batonv1.AnnotationStep, "sum"))
		Expect(string(sum.Status.Payload)).To(Equal("42"), "steps[\"first\"] is the copy of first, under its step name")

		Expect(handlers.onceRuns("sn-flaky")).To(Equal(2), "flaky ran twice in all")
		Expect(handlers.runsOf("first")).To(Equal(1), "first ran once")
		Expect(handlers.runsOf("first-retry-1")).To(Equal(0), "its copy did not run")
	})
})
