package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/internal/localcluster"
)

func TestBatonLocal(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "baton-local")
}

// syncBuffer is an output the demo writes while the spec reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ = Describe("the demo", func() {
	It("runs the external example through the simulated operator live, keeps the control plane up until stopped, and leaves nothing behind", func() {
		Expect(os.Chdir(localcluster.Root())).To(Succeed())
		ctx, cancel := context.WithCancel(context.Background())
		DeferCleanup(cancel)
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, out, []string{"examples/external.yaml"}, time.Minute, true) }()

		kubeconfigLine := regexp.MustCompile(`export KUBECONFIG=(\S+)`)
		Eventually(out.String, time.Minute).Should(MatchRegexp(kubeconfigLine.String()))
		text := out.String()
		Expect(text).To(ContainSubstring("  operator (simulated): saw external-scan ADDED when its gate opened, ran StartCVEScan, reported completion\n"))
		Expect(text).To(MatchRegexp(`(?m)^  external: Running \d/3, batch \d$`), "live progress")
		Expect(text).To(ContainSubstring("  external: Succeeded 3/3\nsequence default/external: Succeeded"))
		Expect(text).To(MatchRegexp(`external-report\s+expr\s+Succeeded.*"operator scan done"`))

		// The control plane is up and reachable with the printed kubeconfig.
		path := kubeconfigLine.FindStringSubmatch(text)[1]
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		Expect(err).NotTo(HaveOccurred())
		c, err := client.New(cfg, client.Options{Scheme: localcluster.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		var list batonv1.CommandSequenceList
		Expect(c.List(ctx, &list)).To(Succeed())
		Expect(list.Items).To(HaveLen(1))
		Consistently(done, time.Second).ShouldNot(Receive(), "it stays up")

		cancel() // Ctrl-C
		Eventually(done, time.Minute).Should(Receive(BeNil()))
		Expect(path).NotTo(BeAnExistingFile(), "the kubeconfig is removed")
		Expect(c.List(context.Background(), &list)).NotTo(Succeed(), "the API server is stopped")
	})
})
