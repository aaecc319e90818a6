package controllers_test

import (
	"encoding/json"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// storedSequence is the CommandSequence as the API server serves it, which is how it
// stores it: encoded again by Go's encoder (<, > and & escaped as six bytes each).
func storedSequence(ns, name string) []byte {
	cs, err := kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	raw, err := cs.Discovery().RESTClient().Get().
		AbsPath("/apis", batonv1.GroupVersion.Group, batonv1.GroupVersion.Version, "namespaces", ns, "commandsequences", name).
		DoRaw(suiteCt)
	Expect(err).NotTo(HaveOccurred())
	return raw
}

var _ = Describe("the report bound, as stored", func() {
	It("keeps a sequence whose payload is 200 KiB of '<' under a 256 KiB cap as the API server stores it", func() {
		const limit = 256 << 10
		ns := newNamespace()
		opts := testOptions()
		opts.Engine.ReportMaxBytes = limit
		startManager(opts, newHandlers(ns))

		// An external step: its executor reports the payload.
		newCommand(ns, "page").Type("RenderPage").In("stored", 0, 1).TTL(2 * time.Minute).Create()
		Eventually(func() string { return getCommand(ns, "page").Labels[batonv1.LabelGate] }, time.Minute).
			Should(Equal(batonv1.GateOpen))
		cmd := getCommand(ns, "page")
		before := cmd.DeepCopy()
		now := metav1.Now()
		cmd.Status.Started, cmd.Status.Completed = true, true
		cmd.Status.StartedAt, cmd.Status.CompletedAt = &now, &now
		cmd.Status.Executer = "renderer"
		cmd.Status.Payload = []byte(`"` + strings.Repeat("<", 200<<10) + `"`)
		Expect(k8s.Status().Patch(suiteCt, cmd, client.MergeFrom(before))).To(Succeed())

		Eventually(sequencePhase(ns, "stored"), time.Minute).Should(Equal(batonv1.SequenceSucceeded))
		raw := storedSequence(ns, "stored")
		var obj struct {
			Status struct {
				Report json.RawMessage `json:"report"`
			} `json:"status"`
		}
		Expect(json.Unmarshal(raw, &obj)).To(Succeed())
		Expect(obj.Status.Report).NotTo(BeEmpty())
		Expect(len(obj.Status.Report)).To(BeNumerically("<=", limit), "the report as stored")
		// Its own fields (metadata, managed fields, counters, conditions) stay small.
		Expect(len(raw)).To(BeNumerically("<", limit+16<<10), "the CommandSequence as stored")

		seq := getSequence(ns, "stored")
		Expect(seq.Status.Report.Members).To(HaveLen(1))
		line := seq.Status.Report.Members[0]
		Expect(line.Payload).To(BeNil(), "the payload is elided")
		Expect(line.PayloadSize).To(Equal(int64(len(cmd.Status.Payload))))
		Expect(seq.Status.Report.PayloadsElided).To(Equal(int32(1)))
	})
})
