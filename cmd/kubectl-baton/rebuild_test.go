package main

import (
	"encoding/json"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

var _ = Describe("report of a sequence whose stored report is incomplete", Ordered, func() {
	const steps = 60
	var (
		ns     string
		stored *batonv1.SequenceReport
	)
	BeforeAll(func() {
		ns = namespace("ux-rebuild")
		var file strings.Builder
		file.WriteString("sequence: wide\nttl: 5m\nsteps:\n")
		for i := range steps {
			fmt.Fprintf(&file, "- name: wide-%02d\n  type: count\n  batch: %d\n  args: {step: %d, filler: %q}\n", i, i/10, i, strings.Repeat("f", 200))
		}
		r := kubectlBaton("submit", "-f", writeFile(file.String()), "--wait", "-n", ns)
		Expect(r.code).To(Equal(0), r.stderr)

		var seq batonv1.CommandSequence
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "wide"}, &seq)).To(Succeed())
		stored = seq.Status.Report
		Expect(stored).NotTo(BeNil())
		Expect(stored.Complete).To(BeFalse(), "the manager dropped lines to stay under its --report-max-bytes")
		Expect(stored.Omitted[batonv1.CommandSucceeded]).To(BeNumerically(">", 0))
		Expect(len(stored.Members) + int(stored.Omitted[batonv1.CommandSucceeded])).To(Equal(steps))
	})

	It("rebuilds every line from the commands, in order, and says so on stderr", func() {
		r := kubectlBaton("report", "wide", "-n", ns, "-o", "json")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stderr).To(ContainSubstring(fmt.Sprintf("note: the stored report of wide is incomplete (%d of %d members omitted); rebuilt from the %d commands that still exist",
			stored.Omitted[batonv1.CommandSucceeded], steps, steps)))
		var rebuilt batonv1.SequenceReport
		Expect(json.Unmarshal([]byte(r.stdout), &rebuilt)).To(Succeed(), "stdout stays valid JSON")
		Expect(rebuilt.Complete).To(BeTrue())
		Expect(rebuilt.Members).To(HaveLen(steps))
		for i, m := range rebuilt.Members {
			Expect(m.Name).To(Equal(fmt.Sprintf("wide-%02d", i)))
			Expect(m.Phase).To(Equal(batonv1.CommandSucceeded))
			Expect(*m.Index).To(Equal(i / 10))
			Expect(m.StartedAt).NotTo(BeNil())
			var payload map[string]any
			Expect(json.Unmarshal(m.Payload.Raw, &payload)).To(Succeed(), "%s: the payload whole, not elided", m.Name)
			Expect(payload).To(HaveKeyWithValue("step", BeNumerically("==", i)))
		}

		r = kubectlBaton("report", "wide", "-n", ns)
		Expect(r.code).To(Equal(0), r.stderr)
		for i := range steps {
			Expect(r.stdout).To(MatchRegexp(`(?m)^%d\s+wide-%02d\s+count\s+Succeeded\s`, i/10, i))
		}
	})

	It("prints the stored report as it is with --stored", func() {
		r := kubectlBaton("report", "wide", "-n", ns, "-o", "json", "--stored")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stderr).To(BeEmpty())
		var got batonv1.SequenceReport
		Expect(json.Unmarshal([]byte(r.stdout), &got)).To(Succeed())
		Expect(got).To(Equal(*stored))
	})

	It("stays incomplete when an omitted member's command is gone, keeping what the stored report kept", func() {
		kept := map[string]bool{}
		for _, m := range stored.Members {
			kept[m.Name] = true
		}
		var gone string
		for i := range steps {
			if name := fmt.Sprintf("wide-%02d", i); !kept[name] {
				gone = name
				break
			}
		}
		Expect(gone).NotTo(BeEmpty())
		cmd := &batonv1.OperatorCommand{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: gone}, cmd)).To(Succeed())
		Expect(k8s.Delete(suiteCtx, cmd)).To(Succeed())
		Eventually(func() error {
			return k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: gone}, &batonv1.OperatorCommand{})
		}).Should(MatchError(ContainSubstring("not found")))

		r := kubectlBaton("report", "wide", "-n", ns, "-o", "json")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stderr).To(ContainSubstring(fmt.Sprintf("rebuilt from the %d commands that still exist; some members' commands are gone, so it is still incomplete", steps-1)))
		var rebuilt batonv1.SequenceReport
		Expect(json.Unmarshal([]byte(r.stdout), &rebuilt)).To(Succeed())
		Expect(rebuilt.Complete).To(BeFalse())
		Expect(rebuilt.Members).To(HaveLen(steps - 1))
		for _, m := range rebuilt.Members {
			Expect(m.Name).NotTo(Equal(gone))
		}
	})
})
