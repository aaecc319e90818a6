package controllers_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	upstream "github.com/kubescape/backend/pkg/command/types/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// createUpstream submits a command the way Kubescape's backend does: built with its own
// Go type, sent through a dynamic client.
func createUpstream(cmd upstream.OperatorCommand) {
	cmd.APIVersion, cmd.Kind = "kubescape.io/v1alpha1", "OperatorCommand"
	data, err := json.Marshal(cmd)
	Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{}
	Expect(u.UnmarshalJSON(data)).To(Succeed())
	dyn, err := dynamic.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	_, err = dyn.Resource(upstream.SchemaGroupVersionResource).Namespace(cmd.Namespace).Create(suiteCt, u, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
}

func heldScan(ns, seq string, index, count int) upstream.OperatorCommand {
	return upstream.OperatorCommand{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   ns,
			Name:        fmt.Sprintf("scan-%d", index),
			Labels:      map[string]string{batonv1.LabelSequence: seq},
			Annotations: map[string]string{batonv1.AnnotationGateLabels: `{"kubescape.io/app-name":"operator"}`},
		},
		Spec: upstream.OperatorCommandSpec{
			GUID: fmt.Sprintf("guid-%d", index), CommandType: "ScanImage",
			TTL: 2 * time.Minute, CommandIndex: &index, CommandCount: &count,
		},
	}
}

var _ = Describe("external executors", func() {
	var ns string
	BeforeEach(func() {
		ns = newNamespace()
		startManager(testOptions(), newHandlers(ns))
	})

	It("hands held members to an unmodified operator one at a time, in index order, none dropped", func() {
		op := startOperator(ns, batonv1.LabelAppName+"=operator", 5*time.Second)
		// Created in reverse: the operator must still see index order.
		for i := 2; i >= 0; i-- {
			createUpstream(heldScan(ns, "held", i, 3))
		}

		Eventually(sequencePhase(ns, "held"), time.Minute).Should(Equal(batonv1.SequenceSucceeded))
		Expect(op.actedOn()).To(Equal([]string{"scan-0", "scan-1", "scan-2"}))
		Expect(op.droppedOnes()).To(BeEmpty())

		var prevCompleted time.Time
		for i := range 3 {
			cmd := getCommand(ns, fmt.Sprintf("scan-%d", i))
			Expect(cmd.Labels).To(HaveKeyWithValue(batonv1.LabelAppName, "operator"))
			Expect(cmd.Labels).To(HaveKeyWithValue(batonv1.LabelGate, batonv1.GateOpen))
			Expect(cmd.Status.Executer).To(Equal("operator"))
			Expect(cmd.Status.Phase).To(Equal(batonv1.CommandSucceeded))
			Expect(cmd.Status.StartedAt.Time).To(BeTemporally(">=", prevCompleted))
			prevCompleted = cmd.Status.CompletedAt.Time
		}
		report := getSequence(ns, "held").Status.Report
		Expect(report.Members).To(HaveLen(3))
		Expect(string(report.Members[1].Payload.Raw)).To(MatchJSON(`{"scanned":"scan-1"}`))
	})

	It("opens the gate label for an executor that selects on it, after in-process predecessors", func() {
		op := startOperator(ns, batonv1.LabelGate+"="+batonv1.GateOpen, 200*time.Millisecond)
		newCommand(ns, "prepare").In("mixed", 0, 3).Create()
		newCommand(ns, "scan").In("mixed", 1, 3).Type("ScanImage").Create()
		newCommand(ns, "summarise").In("mixed", 2, 3).Create()

		Eventually(sequencePhase(ns, "mixed"), wait).Should(Equal(batonv1.SequenceSucceeded))
		Expect(op.actedOn()).To(Equal([]string{"scan"}))
		scan, prepare, summarise := getCommand(ns, "scan"), getCommand(ns, "prepare"), getCommand(ns, "summarise")
		Expect(scan.Status.StartedAt.Time).To(BeTemporally(">=", prepare.Status.CompletedAt.Time))
		Expect(summarise.Status.StartedAt.Time).To(BeTemporally(">=", scan.Status.CompletedAt.Time))
		// By default (warnings) the gate's opening is no Event (operator_sim_test.go sees
		// GateOpened under outcomes); the sequence gets its end event.
		Eventually(sequenceEvents(ns, "mixed"), wait).Should(ContainElement(HavePrefix("Normal Succeeded: 3/3 succeeded in ")))
	})

	It("warns Ungated about a member that carries a routing label before its gate opened", func() {
		newCommand(ns, "first").In("ungated", 0, 2).Type("block").Create()
		newCommand(ns, "eager").In("ungated", 1, 2).Type("ScanImage").Label(batonv1.LabelAppName, "operator").Create()

		Eventually(eventsFor(ns, "eager"), wait).Should(ContainElement(HavePrefix("Warning " + batonv1.ReasonUngated)))
		Eventually(eventsFor(ns, "ungated"), wait).Should(ContainElement(HavePrefix("Warning " + batonv1.ReasonUngated)))
		By("never writing to it: its executor already sees it, and would drop it on any change")
		eager := getCommand(ns, "eager")
		Expect(eager.Status).To(Equal(batonv1.OperatorCommandStatus{Phase: batonv1.CommandPending}), "the schema's default, not a write")
		By("warning once, however often the sequence is reconciled")
		first := getCommand(ns, "first")
		for i := range 3 {
			orig := first.DeepCopy()
			first.Annotations = map[string]string{"test/poke": strconv.Itoa(i)}
			Expect(k8s.Patch(suiteCt, first, client.MergeFrom(orig))).To(Succeed())
		}
		Consistently(func() string { return getCommand(ns, "eager").ResourceVersion }, 3*time.Second).Should(Equal(eager.ResourceVersion))
		Expect(eventCount(ns, "eager", batonv1.ReasonUngated)()).To(Equal(1))
		Expect(eventCount(ns, "ungated", batonv1.ReasonUngated)()).To(Equal(1))
	})
})
