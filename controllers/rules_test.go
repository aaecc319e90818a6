package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

var _ = Describe("the rules at the edges", func() {
	var (
		ns string
		h  *handlers
	)
	BeforeEach(func() {
		ns = newNamespace()
		h = newHandlers(ns)
	})

	It("rewrites a duration-string ttl to int64 nanoseconds on first sight", func() {
		startManager(testOptions(), h)
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "kubescape.io/v1alpha1", "kind": "OperatorCommand",
			"metadata": map[string]any{"name": "by-hand", "namespace": ns},
			"spec":     map[string]any{"guid": "by-hand", "commandType": "record", "ttl": "5m"},
		}}
		Expect(k8s.Create(suiteCt, u)).To(Succeed())
		Eventually(phaseOf(ns, "by-hand"), wait).Should(Equal(batonv1.CommandSucceeded))
		raw := &unstructured.Unstructured{}
		raw.SetGroupVersionKind(batonv1.GroupVersion.WithKind("OperatorCommand"))
		Expect(k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: "by-hand"}, raw)).To(Succeed())
		ttl, _, _ := unstructured.NestedFieldNoCopy(raw.Object, "spec", "ttl")
		Expect(ttl).To(Equal(int64(5 * time.Minute)))
	})

	It("fails a held member whose gate would open past --external-max-age with ExecutorCutoff", func() {
		opts := testOptions()
		opts.Engine.ExternalMaxAge = 2 * time.Second
		startManager(opts, h)
		newCommand(ns, "long").In("cutoff", 0, 2).Arg("sleep", "4s").Create()
		newCommand(ns, "held").In("cutoff", 1, 2).Type("ScanImage").
			Annotate(batonv1.AnnotationGateLabels, `{"kubescape.io/app-name":"operator"}`).Create()

		Eventually(phaseOf(ns, "held"), wait).Should(Equal(batonv1.CommandFailed))
		held := getCommand(ns, "held")
		Expect(held.Status.Error.Reason).To(Equal(batonv1.ReasonExecutorCutoff))
		Expect(held.Labels).NotTo(HaveKey(batonv1.LabelAppName), "never handed to an executor that would ignore it")
		Eventually(eventsFor(ns, "held"), wait).Should(ContainElement(HavePrefix("Warning " + batonv1.ReasonExecutorCutoff)))
	})

	It("fails a sequence whose members disagree on commandCount, and runs none of them", func() {
		startManager(testOptions(), h)
		newCommand(ns, "one").In("odd", 0, 2).Create()
		newCommand(ns, "two").In("odd", 1, 3).Create()
		Eventually(sequencePhase(ns, "odd"), wait).Should(Equal(batonv1.SequenceFailed))
		Expect(getSequence(ns, "odd").Status.Reason).To(Equal(batonv1.ReasonInconsistentCount))
		Eventually(eventsFor(ns, "one"), wait).Should(ContainElement(HavePrefix("Warning " + batonv1.ReasonInconsistentCount)))
		Eventually(sequenceEvents(ns, "odd"), wait).Should(Equal([]string{
			"Normal Failed: commands disagree on commandCount: one has 2, two has 3"}), "it never started: its end event alone")
		Expect(h.count("one") + h.count("two")).To(BeZero())
	})

	It("fails a sequence not assembled in time with Incomplete", func() {
		opts := testOptions()
		opts.Engine.AssemblyTimeout = 2 * time.Second
		startManager(opts, h)
		newCommand(ns, "lonely").In("partial", 0, 2).Create()
		Eventually(sequencePhase(ns, "partial"), wait).Should(Equal(batonv1.SequenceFailed))
		seq := getSequence(ns, "partial")
		Expect(seq.Status.Reason).To(Equal(batonv1.ReasonIncomplete))
		Expect(seq.Status.CompletedAt.Time).To(BeTemporally(">=", seq.CreationTimestamp.Add(time.Second)))
		Expect(h.count("lonely")).To(BeZero())
	})

	It("caps the report at --report-max-bytes as serialised, replacing the largest payloads by size and sha256", func() {
		opts := testOptions()
		opts.Engine.ReportMaxBytes = 2 << 10
		opts.Engine.MaxPayloadBytes = 8 << 10
		startManager(opts, h)
		newCommand(ns, "small").In("capped", 0, 2).Type("text").Create()
		newCommand(ns, "large").In("capped", 1, 2).Type("big").Create()
		Eventually(sequencePhase(ns, "capped"), wait).Should(Equal(batonv1.SequenceSucceeded))
		report := getSequence(ns, "capped").Status.Report
		Expect(report.PayloadsElided).To(Equal(int32(1)))
		Expect(report.Members[0].PayloadBase64).NotTo(BeEmpty())
		large := report.Members[1]
		Expect(large.Payload).To(BeNil())
		Expect(large.PayloadSize).To(Equal(int64(4 << 10)))
		Expect(large.PayloadSHA256).To(HaveLen(64))
	})

	It("counts commands by type and outcome on the metrics registry", func() {
		startManager(testOptions(), h)
		before := counter("baton_commands_total", "record", "Succeeded")
		newCommand(ns, "counted").Create()
		Eventually(phaseOf(ns, "counted"), wait).Should(Equal(batonv1.CommandSucceeded))
		Eventually(func() float64 { return counter("baton_commands_total", "record", "Succeeded") }, wait).Should(Equal(before + 1))
	})
})

// counter reads a counter with the given type and outcome labels from the registry.
func counter(name, commandType, outcome string) float64 {
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["type"] == commandType && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
