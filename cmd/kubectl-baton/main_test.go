package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/cmd/internal/version"
)

var _ = Describe("the plugin without a sequence", func() {
	DescribeTable("exit codes and output",
		func(args []string, code int, stdout, stderr string) {
			r := kubectlBaton(args...)
			Expect(r.code).To(Equal(code))
			Expect(r.stdout).To(ContainSubstring(stdout))
			Expect(r.stderr).To(ContainSubstring(stderr))
		},
		Entry("help lists every verb", []string{"--help"}, 0, "watch       Follow sequences live", ""),
		Entry("version", []string{"version"}, 0, version.Version+"\n", ""),
		Entry("unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`),
		Entry("unknown flag", []string{"get", "--frobnicate"}, 2, "", "unknown flag: --frobnicate"),
		Entry("an output get cannot print", []string{"get", "-o", "toml"}, 2, "", `--output "toml" is not supported`),
		Entry("a missing sequence", []string{"describe", "nope"}, 1, "", `"nope" not found`),
		Entry("no sequences", []string{"get", "-n", "kube-public"}, 0, "", "No sequences found in kube-public namespace."),
		Entry("completion of verbs", []string{"__complete", "re"}, 0, "report\tPrint a finished sequence's report", ""),
	)

	It("prints the commands of a submit file as YAML with --dry-run, held for the executor", func() {
		file := writeFile(`
sequence: dry
ttl: 10m
steps:
- name: dry-scan
  type: StartCVEScan
  args: {wlid: "wlid://cluster-a/namespace-b/deployment-c", nested: {list: [1, {deep: x}]}}
  body: {commandName: scan, id: 1234567890123456789}
- name: dry-report
  type: expr
  batch: 1
  when: 'steps["dry-scan"].phase == "Succeeded"'
  retries: 2
  ttl: 90s
  continueOnFailure: true
  args: {expression: 'steps["dry-scan"].payload'}
`)
		r := kubectlBaton("submit", "-f", file, "--executor", "operator", "--dry-run", "-n", "kubescape")
		Expect(r.code).To(Equal(0))
		expectGolden("submit-dry-run", r.stdout)
		By("showing the body base64-encoded, as the upstream type does: its JSON, every digit kept")
		Expect(r.stdout).To(ContainSubstring("body: " + base64.StdEncoding.EncodeToString([]byte(`{"commandName":"scan","id":1234567890123456789}`))))
	})
})

var _ = Describe("get, describe and report", Ordered, func() {
	var ns string
	BeforeAll(func() {
		ns = namespace("ux-basic")
		file := writeFile(`
sequence: basic
ttl: 5m
steps:
- name: basic-fetch
  type: count
  args: {image: "nginx:1.27"}
  body: 'a secret the tables must not print'
- name: basic-scan
  type: sleep
  batch: 1
  args: {duration: 200ms}
- name: basic-escalate
  type: noop
  batch: 1
  when: 'steps["basic-fetch"].payload.image == "alpine"'
- name: basic-summary
  type: expr
  args: {expression: 'steps["basic-fetch"].payload.image + " checked"'}
`)
		r := kubectlBaton("submit", "-f", file, "--wait", "-n", ns)
		Expect(r.code).To(Equal(0), r.stderr)
		created, progressAndReport, ok := strings.Cut(r.stdout, "sequence basic submitted: 4 commands in ux-basic\n")
		Expect(ok).To(BeTrue())
		expectGolden("submit-created", created)
		progress, rep, ok := strings.Cut(progressAndReport, "\n\n")
		Expect(ok).To(BeTrue())
		lines := strings.Split(progress, "\n")
		Expect(lines[len(lines)-1]).To(Equal("basic: Succeeded 4/4"), "progress streams until the end")
		expectGolden("submit-wait-report", rep)
	})

	It("lists sequences", func() {
		r := kubectlBaton("get", "-n", ns)
		Expect(r.code).To(Equal(0))
		expectGolden("get", r.stdout)
		r = kubectlBaton("get", "-n", ns, "-o", "wide")
		Expect(r.code).To(Equal(0))
		expectGolden("get-wide", r.stdout)
		r = kubectlBaton("get", "-A")
		Expect(r.code).To(Equal(0))
		Expect(r.stdout).To(MatchRegexp(`(?m)^NAMESPACE\s+NAME\s+PHASE\s+PROGRESS\s+CURRENT\s+FAILED\s+AGE\n(.*\n)*ux-basic\s+basic\s+Succeeded\s+4/4\s+3\s+-\s+\S+$`))
	})

	It("prints a sequence as stored with -o json and -o yaml", func() {
		var list batonv1.CommandSequenceList
		r := kubectlBaton("get", "-n", ns, "-o", "json")
		Expect(json.Unmarshal([]byte(r.stdout), &list)).To(Succeed())
		Expect(list.Items).To(HaveLen(1))
		Expect(list.Items[0].Kind).To(Equal("CommandSequence"))
		Expect(list.Items[0].Status.Phase).To(Equal(batonv1.SequenceSucceeded))
		r = kubectlBaton("get", "basic", "-n", ns, "-o", "yaml")
		Expect(r.stdout).To(HavePrefix("apiVersion: kubescape.io/v1alpha1\nkind: CommandSequence\n"))
	})

	It("describes a sequence as a tree of batches with its Events", func() {
		r := kubectlBaton("describe", "basic", "-n", ns)
		Expect(r.code).To(Equal(0))
		expectGolden("describe", r.stdout)
		Expect(r.stdout).To(MatchRegexp(`basic-fetch .* 34 B `), "a body's size")
		Expect(r.stdout).NotTo(ContainSubstring("secret"), "never its bytes")
	})

	It("prints the report as a table, and as stored with -o json", func() {
		r := kubectlBaton("report", "basic", "-n", ns)
		Expect(r.code).To(Equal(0))
		expectGolden("report", r.stdout)
		Expect(r.stdout).To(MatchRegexp(`basic-fetch .* 34 B `), "a body's size")
		Expect(r.stdout).NotTo(ContainSubstring("secret"), "never its bytes")

		var seq batonv1.CommandSequence
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "basic"}, &seq)).To(Succeed())
		stored, err := json.Marshal(seq.Status.Report)
		Expect(err).NotTo(HaveOccurred())
		r = kubectlBaton("report", "basic", "-n", ns, "-o", "json")
		Expect(r.code).To(Equal(0))
		Expect(r.stdout).To(MatchJSON(stored))
		Expect(r.stderr).To(BeEmpty())
	})

	It("completes sequence names", func() {
		r := kubectlBaton("__complete", "describe", "-n", ns, "")
		Expect(r.stdout).To(HavePrefix("basic\n:4\n"))
	})
})

var _ = Describe("watch", func() {
	It("exits 0 when the sequence Succeeded and 1 when it Failed", func() {
		ns := namespace("ux-watch")
		handlers.failing.Store(true)
		ok := writeFile("sequence: ok\nsteps:\n- {type: sleep, args: {duration: 1s}}\n- {type: noop}\n")
		bad := writeFile("sequence: bad\nsteps:\n- {type: sleep, args: {duration: 1s}}\n- {type: flaky}\n- {type: noop}\n")
		Expect(kubectlBaton("submit", "-f", ok, "-n", ns).code).To(Equal(0))

		r := kubectlBaton("watch", "ok", "-n", ns)
		Expect(r.code).To(Equal(0))
		Expect(r.stdout).To(HaveSuffix("ok: Succeeded 2/2\n"))

		Expect(kubectlBaton("submit", "-f", bad, "-n", ns).code).To(Equal(0))
		r = kubectlBaton("watch", "bad", "-n", ns)
		Expect(r.code).To(Equal(1))
		Expect(r.stdout).To(HaveSuffix("bad: Failed 3/3 (HandlerFailed), failed member bad-1\n"))

		r = kubectlBaton("watch", "-n", ns)
		Expect(r.code).To(Equal(1), "one of the sequences Failed")
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		slices.Sort(lines) // the order in which the watch lists them is not the API's
		expectGolden("watch-all", strings.Join(lines, "\n"))
	})

	It("exits 130 when interrupted", func() {
		ns := namespace("ux-watch-interrupted")
		ctx, cancel := context.WithTimeout(suiteCtx, 500*time.Millisecond)
		defer cancel()
		var stdout, stderr bytes.Buffer
		Expect(run(ctx, []string{"--kubeconfig", kubeconfig, "watch", "never", "-n", ns}, &stdout, &stderr)).To(Equal(130))
	})

	It("waits for a sequence that does not exist yet", func() {
		ns := namespace("ux-watch-later")
		done := make(chan result, 1)
		go func() {
			defer GinkgoRecover()
			done <- kubectlBaton("watch", "later", "-n", ns)
		}()
		Consistently(done, 500*time.Millisecond).ShouldNot(Receive())
		Expect(kubectlBaton("submit", "-f", writeFile("sequence: later\nsteps:\n- {type: noop}\n"), "-n", ns).code).To(Equal(0))
		var r result
		Eventually(done, 30*time.Second).Should(Receive(&r))
		Expect(r.code).To(Equal(0))
	})
})
