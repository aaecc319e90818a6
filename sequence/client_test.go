package sequence_test

import (
	"context"
	"time"

	upstream "github.com/kubescape/backend/pkg/command/types/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/sequence"
)

func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "seq-"}}
	Expect(k8s.Create(suiteCtx, ns)).To(Succeed())
	return ns.Name
}

var _ = Describe("Create and Wait", func() {
	It("creates the commands a backend built and waits for the report through the watch API", func() {
		ns := newNamespace()
		f, err := sequence.Parse([]byte(`
ttl: 2m
steps:
- {name: probe, type: noop, args: {severity: low}}
- {name: pause, type: sleep, args: {duration: 1500ms}, when: 'steps["probe"].payload.severity == "low"'}
- {name: escalate, type: noop, batch: 1, when: 'steps["probe"].payload.severity == "high"'}
- {name: summary, type: expr, args: {expression: 'steps["pause"].phase + "/" + steps["escalate"].phase'}}
`))
		Expect(err).NotTo(HaveOccurred())
		cmds, err := sequence.Build(f, sequence.Options{Namespace: ns})
		Expect(err).NotTo(HaveOccurred())
		key := cmds[0].Spec.GUID
		Expect(key).To(MatchRegexp(`^[0-9a-f-]{36}$`), "a generated key is a UUID")

		var seen []batonv1.SequencePhase
		done := make(chan *batonv1.CommandSequence, 1)
		go func() {
			defer GinkgoRecover()
			seq, err := sequence.Wait(suiteCtx, k8s, ns, key, sequence.WaitOptions{Progress: func(s *batonv1.CommandSequence) {
				seen = append(seen, s.Status.Phase)
			}})
			Expect(err).NotTo(HaveOccurred())
			done <- seq
		}()
		Expect(sequence.Create(suiteCtx, k8s, cmds)).To(Succeed())
		var seq *batonv1.CommandSequence
		Eventually(done, time.Minute).Should(Receive(&seq))

		Expect(seq.Name).To(Equal(sequence.Name(key)))
		Expect(seq.Status.Phase).To(Equal(batonv1.SequenceSucceeded))
		// Running is written at most a progress interval (1 s) after the sequence started:
		// one that runs longer, as this one does (pause), is seen Running; a quicker one may
		// go straight to its final phase, startedAt and current batch included.
		Expect(seen).To(ContainElement(batonv1.SequenceRunning), "Wait saw the sequence while it ran")
		Expect(seq.Status.StartedAt).NotTo(BeNil())
		Expect(seq.Status.CurrentBatch).To(HaveValue(Equal(3)))
		last := seq.Status.Report.Members[len(seq.Status.Report.Members)-1]
		Expect(string(last.Payload.Raw)).To(Equal(`"Succeeded/Skipped"`))

		// The stored command decodes with the upstream type: TTL in int64 nanoseconds.
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(batonv1.GroupVersion.WithKind("OperatorCommand"))
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "probe"}, u)).To(Succeed())
		var cmd upstream.OperatorCommand
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &cmd)).To(Succeed())
		Expect(cmd.Spec.TTL).To(Equal(2 * time.Minute))
		Expect(cmd.Spec.GUID).To(Equal(key))
		Expect(cmd.Labels).To(HaveKeyWithValue(batonv1.LabelSequence, key))
	})

	It("finds a sequence by key or by name, and fails Wait when the context ends", func() {
		ns := newNamespace()
		_, err := sequence.Get(suiteCtx, k8s, ns, "missing")
		Expect(err).To(MatchError(ContainSubstring(`"missing" not found`)))
		ctx, cancel := context.WithTimeout(suiteCtx, 200*time.Millisecond)
		defer cancel()
		_, err = sequence.Wait(ctx, k8s, ns, "missing", sequence.WaitOptions{})
		Expect(err).To(MatchError(ContainSubstring("waiting for sequence")))
	})
})
