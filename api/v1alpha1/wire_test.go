package v1alpha1_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"time"

	"github.com/armosec/armoapi-go/identifiers"
	"github.com/google/go-cmp/cmp"
	upstream "github.com/kubescape/backend/pkg/command/types/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/internal/localcluster"
)

func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "wire-"}}
	Expect(k8s.Create(suiteCt, ns)).To(Succeed())
	return ns.Name
}

func commands(ns string) dynamic.ResourceInterface {
	return dyn.Resource(upstream.SchemaGroupVersionResource).Namespace(ns)
}

// toUnstructured goes through JSON, as a client built on the upstream type does.
func toUnstructured(v any) *unstructured.Unstructured {
	data, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{}
	Expect(u.UnmarshalJSON(data)).To(Succeed())
	return u
}

// fromUnstructured decodes as the Kubescape operator does.
func fromUnstructured(u *unstructured.Unstructured) upstream.OperatorCommand {
	var cmd upstream.OperatorCommand
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &cmd)).To(Succeed())
	return cmd
}

func upstreamCommand(ns, name string) upstream.OperatorCommand {
	index, count := 1, 3
	return upstream.OperatorCommand{
		TypeMeta:   metav1.TypeMeta{APIVersion: "kubescape.io/v1alpha1", Kind: "OperatorCommand"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: upstream.OperatorCommandSpec{
			GUID:           "4c6f0a5e-8d0e-4a43-9a51-3e5a1f6c2b7d",
			CommandType:    "ScanImage",
			CommandVersion: "v1",
			Designators: []identifiers.PortalDesignator{{
				DesignatorType: identifiers.DesignatorAttributes,
				WLID:           "wlid://cluster-a/namespace-b/deployment-c",
				Attributes:     map[string]string{"cluster": "a", "namespace": "b"},
			}},
			Body: []byte{0x00, 0xff, 'h', 'i', 0x7f},
			TTL:  90 * time.Minute,
			Args: map[string]any{
				"image": "nginx:1.27",
				"nested": map[string]any{
					"list": []any{
						map[string]any{"deep": map[string]any{"x": "y"}, "n": int64(3)},
						"plain",
						[]any{true, false},
					},
				},
			},
			CommandIndex: &index,
			CommandCount: &count,
		},
	}
}

var _ = Describe("OperatorCommand on the wire", func() {
	It("round-trips a command built with the kubescape/backend Go type", func() {
		ns := newNamespace()
		sent := upstreamCommand(ns, "scan")
		_, err := commands(ns).Create(suiteCt, toUnstructured(sent), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())

		got, err := commands(ns).Get(suiteCt, "scan", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		back := fromUnstructured(got)
		Expect(cmp.Diff(sent.Spec, back.Spec)).To(BeEmpty())

		By("reading the same object with baton's own type")
		var ours batonv1.OperatorCommand
		Expect(k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: "scan"}, &ours)).To(Succeed())
		Expect(ours.Spec.TTL.Std()).To(Equal(90 * time.Minute))
		Expect(ours.Spec.Body).To(Equal(sent.Spec.Body))
		Expect(*ours.Spec.CommandIndex).To(Equal(1))
		Expect(*ours.Spec.CommandCount).To(Equal(3))
		Expect(ours.Spec.Designators[0].Attributes).To(Equal(map[string]string{"cluster": "a", "namespace": "b"}))
		Expect(ours.Spec.Args["nested"]).To(HaveKeyWithValue("list", HaveLen(3)))
	})

	It("takes a status merge patch from the upstream type on the status subresource, as the operator writes it", func() {
		ns := newNamespace()
		_, err := commands(ns).Create(suiteCt, toUnstructured(upstreamCommand(ns, "scan")), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())

		started := metav1.NewTime(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
		completed := metav1.NewTime(started.Add(42 * time.Second))
		status := upstream.OperatorCommandStatus{
			Started: true, StartedAt: &started,
			Completed: true, CompletedAt: &completed,
			Executer: "operator",
			Error:    &upstream.OperatorCommandStatusError{Reason: "ScanFailed", Message: "image not found", ErrorCode: 404},
			Payload:  []byte(`{"vulnerabilities":7}`),
		}
		patch, err := json.Marshal(map[string]any{"status": status})
		Expect(err).NotTo(HaveOccurred())
		_, err = commands(ns).Patch(suiteCt, "scan", types.MergePatchType, patch, metav1.PatchOptions{}, "status")
		Expect(err).NotTo(HaveOccurred())

		got, err := commands(ns).Get(suiteCt, "scan", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(cmp.Diff(status, fromUnstructured(got).Status)).To(BeEmpty())

		var ours batonv1.OperatorCommand
		Expect(k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: "scan"}, &ours)).To(Succeed())
		Expect(ours.Status.Error).To(Equal(&batonv1.OperatorCommandStatusError{Reason: "ScanFailed", Message: "image not found", ErrorCode: 404}))
		Expect(ours.Status.CompletedAt.Time).To(BeTemporally("==", completed.Time))
		Expect(string(ours.Status.Payload)).To(Equal(`{"vulnerabilities":7}`))
	})

	It("accepts a ttl given as a duration string, and baton's type reads both forms", func() {
		ns := newNamespace()
		manifest := `
apiVersion: kubescape.io/v1alpha1
kind: OperatorCommand
metadata:
  name: by-hand
spec:
  guid: by-hand
  commandType: noop
  ttl: "5m"
`
		u := &unstructured.Unstructured{}
		Expect(yaml.Unmarshal([]byte(manifest), &u.Object)).To(Succeed())
		_, err := commands(ns).Create(suiteCt, u, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())

		var ours batonv1.OperatorCommand
		Expect(k8s.Get(suiteCt, client.ObjectKey{Namespace: ns, Name: "by-hand"}, &ours)).To(Succeed())
		Expect(ours.Spec.TTL.Std()).To(Equal(5 * time.Minute))

		By("marshalling it back as int64 nanoseconds, the form the upstream type decodes")
		data, err := json.Marshal(ours.Spec)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(data)).To(ContainSubstring(`"ttl":300000000000`))
	})

	DescribeTable("ttl admission: a value no client could decode never reaches etcd",
		func(ttl any, accepted bool) {
			ns := newNamespace()
			u := toUnstructured(upstreamCommand(ns, "ttl"))
			Expect(unstructured.SetNestedField(u.Object, ttl, "spec", "ttl")).To(Succeed())
			_, err := commands(ns).Create(suiteCt, u, metav1.CreateOptions{})
			if accepted {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(err).To(MatchError(ContainSubstring("spec.ttl")))
		},
		Entry("int64 nanoseconds", int64(90_000_000_000), true),
		Entry("a compound duration string", "1h30m", true),
		Entry("a fractional duration string", "1.5s", true),
		Entry("zero", "0", true),
		Entry("words", "5 minutes", false),
		Entry("a negative duration", "-5m", false),
		Entry("a number without a unit", "300", false),
		Entry("a duration past int64 nanoseconds", "9999999999999h", false),
		Entry("a bool", true, false),
	)

	It("prints the documented columns in kubectl get", func() {
		ns := newNamespace()
		cmd := upstreamCommand(ns, "scan")
		cmd.Labels = map[string]string{batonv1.LabelSequence: "nightly"}
		_, err := commands(ns).Create(suiteCt, toUnstructured(cmd), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())

		seq := &batonv1.CommandSequence{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nightly"},
			Spec:       batonv1.CommandSequenceSpec{Key: "nightly"},
		}
		Expect(k8s.Create(suiteCt, seq)).To(Succeed())
		current := 1
		seq.Status = batonv1.CommandSequenceStatus{Phase: batonv1.SequenceRunning, Progress: "1/3", CurrentBatch: &current}
		Expect(k8s.Status().Update(suiteCt, seq)).To(Succeed())

		opcmd := kubectl("get", "opcmd", "-n", ns)
		Expect(header(opcmd)).To(Equal([]string{"NAME", "TYPE", "SEQUENCE", "INDEX", "COUNT", "PHASE", "AGE"}))
		Expect(strings.Fields(strings.Split(opcmd, "\n")[1])[:5]).To(Equal([]string{"scan", "ScanImage", "nightly", "1", "3"}))

		cmdseq := kubectl("get", "cmdseq", "-n", ns)
		Expect(header(cmdseq)).To(Equal([]string{"NAME", "PHASE", "PROGRESS", "CURRENT", "AGE"}))
		Expect(strings.Fields(strings.Split(cmdseq, "\n")[1])[:4]).To(Equal([]string{"nightly", "Running", "1/3", "1"}))
	})
})

func header(table string) []string {
	return strings.Fields(strings.Split(table, "\n")[0])
}

// kubectl runs the kubectl built beside the control plane against the test API server.
func kubectl(args ...string) string {
	out, err := exec.Command(localcluster.Kubectl(env), append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), string(out))
	return string(out)
}
