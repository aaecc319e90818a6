package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/batonhq/baton/cmd/manager/app"
	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

// reportMaxBytes is the suite manager's --report-max-bytes: small enough that a sequence of
// a few dozen steps has an incomplete stored report, as one of thousands has at the default.
const reportMaxBytes = 16 << 10

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// One control plane and one baton manager for the package; each spec works in a namespace
// of its own, and runs the plugin in this process with --kubeconfig, as kubectl runs it.
var (
	cluster    *localcluster.Cluster
	k8s        client.WithWatch
	kubeconfig string
	suiteCtx   context.Context
	handlers   = newTestHandlers()
)

func TestKubectlBaton(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kubectl-baton on a real API server")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var cancel context.CancelFunc
	suiteCtx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)
	// status.executer of in-process steps: stable in the golden files.
	Expect(os.Setenv("POD_NAME", "baton-test")).To(Succeed())

	registry := steps.NewRegistry()
	handlers.register(registry)
	var err error
	cluster, err = localcluster.Start(suiteCtx, registry, func(o *app.Options) { o.ReportMaxBytes = reportMaxBytes })
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(cluster.Stop)
	k8s = cluster.Client
	dir, err := os.MkdirTemp("", "kubectl-baton-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	kubeconfig, err = localcluster.WriteKubeconfig(cluster.Env, dir)
	Expect(err).NotTo(HaveOccurred())
})

// testHandlers are the in-process steps of the specs.
type testHandlers struct {
	mu   sync.Mutex
	runs map[string]int // command name -> runs of "count"
	// once counts the runs of "flaky-once" by its args.key: it fails the first.
	once map[string]int
	// failing makes "flaky" fail while true.
	failing atomic.Bool
	// blocked receives the name of each "block" command once it runs; cancelled its name
	// once its context ended.
	blocked, cancelled chan string
}

func newTestHandlers() *testHandlers {
	return &testHandlers{runs: map[string]int{}, once: map[string]int{}, blocked: make(chan string, 8), cancelled: make(chan string, 8)}
}

func (h *testHandlers) register(r *steps.Registry) {
	// count returns its args and counts its runs.
	r.MustRegister("count", "", steps.HandlerFunc(func(_ context.Context, req steps.Request) (any, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.runs[req.Command.Name]++
		return req.Args(), nil
	}))
	r.MustRegister("flaky", "", steps.HandlerFunc(func(_ context.Context, req steps.Request) (any, error) {
		if h.failing.Load() {
			return nil, errors.New("the scanner is unreachable")
		}
		return map[string]any{"ok": true}, nil
	}))
	// flaky-once fails its first run for its args.key and succeeds from the second on,
	// whatever the command is named (a retry renames it).
	r.MustRegister("flaky-once", "", steps.HandlerFunc(func(_ context.Context, req steps.Request) (any, error) {
		key, _ := req.Args()["key"].(string)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.once[key]++
		if h.once[key] == 1 {
			return nil, errors.New("failing the first run, as flaky-once does")
		}
		return map[string]any{"run": h.once[key]}, nil
	}))
	r.MustRegister("block", "", steps.HandlerFunc(func(ctx context.Context, req steps.Request) (any, error) {
		h.blocked <- req.Command.Name
		<-ctx.Done()
		h.cancelled <- req.Command.Name
		return nil, ctx.Err()
	}))
}

// onceRuns is how many times "flaky-once" ran for key.
func (h *testHandlers) onceRuns(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.once[key]
}

func (h *testHandlers) runsOf(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.runs[name]
}

// namespace creates a namespace with this fixed name, so it reads the same in golden files.
func namespace(name string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	Expect(k8s.Create(suiteCtx, ns)).To(Succeed())
	return name
}

// result is one run of the plugin.
type result struct {
	stdout, stderr string
	code           int
}

// kubectlBaton runs the plugin with the suite's kubeconfig.
func kubectlBaton(args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(suiteCtx, append([]string{"--kubeconfig", kubeconfig}, args...), &stdout, &stderr)
	GinkgoWriter.Printf("$ kubectl baton %s\n%s%s(exit %d)\n", strings.Join(args, " "), stdout.String(), stderr.String(), code)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// writeFile writes a submit file for the spec and returns its path.
func writeFile(content string) string {
	path := filepath.Join(GinkgoT().TempDir(), "sequence.yaml")
	Expect(os.WriteFile(path, []byte(content), 0o600)).To(Succeed())
	return path
}

var (
	timestamp = regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b`)
	// durations as the plugin prints them: <1s, 3s, 2m5s, 1.5s, 4h
	durationRe = regexp.MustCompile(`(<1s|\b(\d+(\.\d+)?(ms|s|m|h|d))+\b)`)
	padding    = regexp.MustCompile(`(\S) {2,}`)
	eventsHead = "  TYPE  REASON  AGE  FROM  OBJECT  MESSAGE"
)

// mask makes output comparable between runs: timestamps and durations masked, column
// padding (which follows their width) collapsed to two spaces, and Events — whose order
// within one second depends on scheduling — sorted, with identical lines once.
func mask(s string) string {
	s = timestamp.ReplaceAllString(s, "TIME")
	s = durationRe.ReplaceAllString(s, "DUR")
	s = padding.ReplaceAllString(s, "$1  ")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	if i := slices.Index(lines, eventsHead); i >= 0 {
		end := i + 1
		for end < len(lines) && strings.HasPrefix(lines[end], "  ") {
			end++
		}
		events := slices.Clone(lines[i+1 : end])
		slices.Sort(events)
		// The manager may record a sequence's phase event twice when two reconciles race
		// (a Running event seen twice); the plugin prints what is recorded.
		events = slices.Compact(events)
		lines = append(append(lines[:i+1:i+1], events...), lines[end:]...)
	}
	return strings.Join(lines, "\n")
}

// expectGolden compares masked output with testdata/name.golden (rewritten with -update).
func expectGolden(name, output string) {
	GinkgoHelper()
	path := filepath.Join("testdata", name+".golden")
	got := mask(output)
	if *update {
		Expect(os.WriteFile(path, []byte(got), 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "no golden file: run go test ./cmd/kubectl-baton/ -args -update")
	Expect(got).To(Equal(string(want)), "output differs from %s", path)
}
