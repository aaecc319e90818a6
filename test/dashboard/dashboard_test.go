package dashboard_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/sequence"
)

var _ = Describe("the Grafana dashboard", Ordered, func() {
	var have served

	BeforeAll(func(ctx SpecContext) {
		By("running a sequence: an in-process step, then one cancelled while it runs, which ignores it")
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "dashboard-"}}
		Expect(k8s.Create(ctx, ns)).To(Succeed())
		const key = "dashboard"
		cmds, err := sequence.Build(&sequence.File{Sequence: key, Steps: []sequence.Step{
			{Name: "first", Type: "noop"},
			{Name: "stubborn", Type: stubborn},
		}}, sequence.Options{Namespace: ns.Name})
		Expect(err).NotTo(HaveOccurred())
		Expect(sequence.Create(ctx, k8s, cmds)).To(Succeed())
		select {
		case <-stubbornStarted:
		case <-ctx.Done():
			Fail("the stubborn step never ran")
		}
		seq := &batonv1.CommandSequence{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: sequence.Name(key)}}
		patch := []byte(`{"metadata":{"annotations":{"` + batonv1.AnnotationCancel + `":"true"}}}`)
		Eventually(func() error { // the CommandSequence is created by the manager
			return k8s.Patch(ctx, seq, client.RawPatch(types.MergePatchType, patch))
		}).WithContext(ctx).WithPolling(100 * time.Millisecond).Should(Succeed())
		seq, err = sequence.Wait(ctx, k8s, ns.Name, key, sequence.WaitOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(seq.Status.Phase).To(Equal(batonv1.SequenceFailed), "cancelled")

		By("scraping /metrics once the stubborn handler has been abandoned")
		Eventually(func(g Gomega) {
			var err error
			have, err = scrape(metricsURL)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(have).To(HaveKey("baton_abandoned_handlers_total"))
		}).WithContext(ctx).WithPolling(100 * time.Millisecond).Should(Succeed())
	}, NodeTimeout(2*time.Minute))

	It("names in every panel's query only metrics and labels the manager serves", func() {
		queries, err := readDashboard()
		Expect(err).NotTo(HaveOccurred())
		Expect(queries).NotTo(BeEmpty())
		Expect(missingMetrics(queries, have)).To(BeEmpty())
	})

	It("fails a query that names a metric or a label the manager does not serve", func() {
		queries := []query{
			{where: "misspelt", expr: `sum(rate(baton_commands_totl[5m]))`},
			{where: "not a histogram", expr: `histogram_quantile(0.9, sum by (le) (rate(baton_commands_total_bucket[5m])))`},
			{where: "a gauge's count", expr: `baton_active_sequences_count`},
			{where: "no metric", expr: `vector(1)`},
			{where: "a label no metric has", expr: `sum by (kind) (rate(baton_api_writes_total{verb="patch"}[5m]))`},
			{where: "le of a count", expr: `sum by (le) (rate(baton_gate_latency_seconds_count[5m]))`},
			{where: "served", expr: `sum by (le, pod) (rate(baton_gate_latency_seconds_bucket[5m]))`},
		}
		Expect(missingMetrics(queries, have)).To(ConsistOf(
			ContainSubstring("misspelt: baton_commands_totl is not served"),
			ContainSubstring("not a histogram: baton_commands_total_bucket is not served"),
			ContainSubstring("a gauge's count: baton_active_sequences_count is not served"),
			ContainSubstring("no metric selects no metric"),
			ContainSubstring("a label no metric has: label kind is on none of baton_api_writes_total"),
			ContainSubstring("le of a count: label le is on none of baton_gate_latency_seconds_count"),
		))
	})
})
