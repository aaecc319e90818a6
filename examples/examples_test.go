// Package examples_test applies every example sequence with kubectl to a real API server
// running the full baton manager, and checks each one ends as its comments say.
package examples_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

var (
	cluster    *localcluster.Cluster
	kubeconfig string
	suiteCt    context.Context
)

func TestExamples(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "examples")
}

var _ = BeforeSuite(func() {
	var cancel context.CancelFunc
	suiteCt, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)
	var err error
	cluster, err = localcluster.Start(suiteCt, steps.NewRegistry())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(cluster.Stop()).To(Succeed()) })
	kubeconfig, err = localcluster.WriteKubeconfig(cluster.Env, GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
})

// apply runs kubectl apply -f on an example into a new namespace, which it returns.
func apply(file string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "example-"}}
	Expect(cluster.Client.Create(suiteCt, ns)).To(Succeed())
	out, err := exec.Command(localcluster.Kubectl(cluster.Env), "--kubeconfig", kubeconfig, "apply", "-n", ns.Name, "-f", file).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	return ns.Name
}

func finished(ns, name string) func() *batonv1.CommandSequence {
	return func() *batonv1.CommandSequence {
		seq := &batonv1.CommandSequence{}
		if err := cluster.Client.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: name}, seq); err != nil || !seq.Status.Phase.Terminal() {
			return nil
		}
		return seq
	}
}

func member(seq *batonv1.CommandSequence, name string) batonv1.ReportMember {
	for _, m := range seq.Status.Report.Members {
		if m.Name == name {
			return m
		}
	}
	Fail("no report member " + name)
	return batonv1.ReportMember{}
}

var _ = Describe("the example sequences", func() {
	It("linear.yaml runs three steps in order and reports the last one's expression", func() {
		ns := apply("linear.yaml")
		var seq *batonv1.CommandSequence
		Eventually(func() any { seq = finished(ns, "linear")(); return seq }, time.Minute).ShouldNot(BeNil())
		Expect(seq.Status.Phase).To(Equal(batonv1.SequenceSucceeded))
		Expect(seq.Status.Progress).To(Equal("3/3"))
		Expect(string(member(seq, "linear-fetch").Payload.Raw)).To(MatchJSON(`{"image":"nginx:1.27","tags":["stable","latest"]}`))
		Expect(string(member(seq, "linear-summary").Payload.Raw)).To(MatchJSON(`"nginx:1.27 checked"`))
		Expect(member(seq, "linear-summary").StartedAt.Time).To(BeTemporally(">=", member(seq, "linear-pause").CompletedAt.Time))
	})

	It("parallel-when.yaml runs a parallel batch and skips the member whose condition is false", func() {
		ns := apply("parallel-when.yaml")
		var seq *batonv1.CommandSequence
		Eventually(func() any { seq = finished(ns, "parallel")(); return seq }, time.Minute).ShouldNot(BeNil())
		Expect(seq.Status.Phase).To(Equal(batonv1.SequenceSucceeded))
		Expect(member(seq, "parallel-scan").Phase).To(Equal(batonv1.CommandSucceeded))
		escalate := member(seq, "parallel-escalate")
		Expect(escalate.Phase).To(Equal(batonv1.CommandSkipped))
		Expect(escalate.Reason).To(Equal(batonv1.ReasonConditionFalse))
		Expect(string(member(seq, "parallel-report").Payload.Raw)).To(MatchJSON(`"Skipped"`))
	})

	It("failure.yaml fails at the refused http call and skips the step after it", func() {
		ns := apply("failure.yaml")
		var seq *batonv1.CommandSequence
		Eventually(func() any { seq = finished(ns, "failing")(); return seq }, time.Minute).ShouldNot(BeNil())
		Expect(seq.Status.Phase).To(Equal(batonv1.SequenceFailed))
		Expect(seq.Status.FailedMember).To(Equal("failing-call"))
		Expect(member(seq, "failing-start").Phase).To(Equal(batonv1.CommandSucceeded))
		call := member(seq, "failing-call")
		Expect(call.Phase).To(Equal(batonv1.CommandFailed))
		Expect(call.Error.Message).To(ContainSubstring("metadata.internal.example"))
		never := member(seq, "failing-never")
		Expect(never.Phase).To(Equal(batonv1.CommandSkipped))
		Expect(never.Reason).To(Equal(batonv1.ReasonPredecessorFailed))
	})
})
