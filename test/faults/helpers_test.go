package faults_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// manager is one bin/manager process.
type manager struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done
}

// startManager runs bin/manager as name (its POD_NAME, hence status.executer), watching
// namespace ns, with the http step allowed to reach 127.0.0.1. It is killed when the spec
// ends, however it ends; a test process that dies takes it along (Pdeathsig).
func startManager(name, ns string, args ...string) *manager {
	args = append([]string{
		"--kubeconfig=" + kubeconfig, "--namespace=" + ns,
		"--metrics-bind-address=0", "--health-probe-bind-address=0",
		"--http-allow=127.0.0.1", "--zap-log-level=info",
	}, args...)
	cmd := exec.Command(managerBin, args...)
	cmd.Env = append(os.Environ(), "POD_NAME="+name)
	out := &prefixWriter{prefix: "[" + name + "] ", w: GinkgoWriter}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	Expect(cmd.Start()).To(Succeed())
	m := &manager{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		m.err = cmd.Wait()
		close(m.done)
	}()
	DeferCleanup(m.kill)
	return m
}

// kill sends SIGKILL, as the kernel's OOM killer or a node loss would, and waits for the
// process to be gone. Killing a dead process is a no-op.
func (m *manager) kill() {
	select {
	case <-m.done:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// running reports whether the process has not exited.
func (m *manager) running() bool {
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}

// prefixWriter writes each line of a process's output with a prefix, for GinkgoWriter.
type prefixWriter struct {
	mu      sync.Mutex
	prefix  string
	w       io.Writer
	pending []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = append(p.pending, b...)
	for {
		i := bytes.IndexByte(p.pending, '\n')
		if i < 0 {
			return len(b), nil
		}
		_, _ = fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.pending[:i])
		p.pending = p.pending[i+1:]
	}
}

// endpoint is an HTTP server that counts the requests for each path, outside every
// manager, and answers each after a delay with {"path": ..., "n": <this path's count>}.
type endpoint struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int
	total  int
	delay  time.Duration
}

func newEndpoint(delay time.Duration) *endpoint {
	e := &endpoint{counts: map[string]int{}, delay: delay}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.counts[r.URL.Path]++
		e.total++
		n, delay := e.counts[r.URL.Path], e.delay
		e.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "n": n})
	}))
	DeferCleanup(e.Close)
	return e
}

func (e *endpoint) requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.total
}

func (e *endpoint) count(ns, name string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts["/"+ns+"/"+name]
}

// submitSequences creates sequences first to first+n-1 of steps http steps each, POSTing
// to /<ns>/<command name> on e, and returns the command names.
func submitSequences(ns string, e *endpoint, first, n, steps int) []string {
	var names []string
	for s := first; s < first+n; s++ {
		for i := range steps {
			name := fmt.Sprintf("seq-%03d-%d", s, i)
			index, count := i, steps
			cmd := &batonv1.OperatorCommand{
				ObjectMeta: metav1.ObjectMeta{
					Namespace: ns, Name: name,
					Labels: map[string]string{batonv1.LabelSequence: fmt.Sprintf("seq-%03d", s)},
				},
				Spec: batonv1.OperatorCommandSpec{
					GUID: name, CommandType: "http", TTL: batonv1.Duration(3 * time.Minute),
					CommandIndex: &index, CommandCount: &count,
					Args: batonv1.Args{"method": "POST", "url": e.URL + "/" + ns + "/" + name},
				},
			}
			Expect(k8s.Create(suiteCtx, cmd)).To(Succeed())
			names = append(names, name)
		}
	}
	return names
}

func newNamespace() string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "faults-"}}
	Expect(k8s.Create(suiteCtx, ns)).To(Succeed())
	return ns.Name
}

// commands lists the namespace's commands by name.
func commands(ns string) map[string]batonv1.OperatorCommand {
	var list batonv1.OperatorCommandList
	Expect(k8s.List(suiteCtx, &list, client.InNamespace(ns))).To(Succeed())
	out := make(map[string]batonv1.OperatorCommand, len(list.Items))
	for _, c := range list.Items {
		out[c.Name] = c
	}
	return out
}

// settledCommands lists the namespace's commands once no command has changed for a
// second: after a SIGKILL, requests the process had already sent may still land.
func settledCommands(ns string) map[string]batonv1.OperatorCommand {
	versions := func(cmds map[string]batonv1.OperatorCommand) map[string]string {
		out := make(map[string]string, len(cmds))
		for name, c := range cmds {
			out[name] = c.ResourceVersion
		}
		return out
	}
	cmds := commands(ns)
	for {
		time.Sleep(time.Second)
		again := commands(ns)
		if equality.Semantic.DeepEqual(versions(cmds), versions(again)) {
			return again
		}
		cmds = again
	}
}

// inPhase counts the namespace's commands in each phase.
func inPhase(ns string) map[batonv1.CommandPhase]int {
	out := map[batonv1.CommandPhase]int{}
	for _, c := range commands(ns) {
		out[c.Status.Phase]++
	}
	return out
}

// finishedSequences counts the namespace's sequences that are terminal with a report;
// it returns -1 while the API server cannot answer.
func finishedSequences(ns string) int {
	var list batonv1.CommandSequenceList
	if err := k8s.List(suiteCtx, &list, client.InNamespace(ns)); err != nil {
		return -1
	}
	n := 0
	for _, s := range list.Items {
		if s.Status.Phase.Terminal() && s.Status.Report != nil {
			n++
		}
	}
	return n
}

// expectRunAtMostOnce checks that every command is terminal, and against the endpoint's
// count: a Succeeded command was sent exactly once and its payload is that one answer;
// none was sent twice. It returns the number of commands per phase.
func expectRunAtMostOnce(ns string, e *endpoint, names []string) map[batonv1.CommandPhase]int {
	phases := expectSentAtMostOnce(ns, e, names)
	for phase, n := range phases {
		Expect(phase.Terminal()).To(BeTrue(), "%d commands ended %s", n, phase)
	}
	return phases
}

// expectSentAtMostOnce is expectRunAtMostOnce for commands that may not have finished.
func expectSentAtMostOnce(ns string, e *endpoint, names []string) map[batonv1.CommandPhase]int {
	cmds := commands(ns)
	phases := map[batonv1.CommandPhase]int{}
	for _, name := range names {
		cmd, ok := cmds[name]
		Expect(ok).To(BeTrue(), "command %s exists", name)
		phases[cmd.Status.Phase]++
		sent := e.count(ns, name)
		Expect(sent).To(BeNumerically("<=", 1), "command %s was sent %d times", name, sent)
		if cmd.Status.Phase == batonv1.CommandSucceeded {
			Expect(sent).To(Equal(1), "command %s succeeded", name)
			var payload struct {
				StatusCode int    `json:"statusCode"`
				Body       string `json:"body"`
			}
			Expect(json.Unmarshal(cmd.Status.Payload, &payload)).To(Succeed())
			Expect(payload.StatusCode).To(Equal(http.StatusOK))
			Expect(payload.Body).To(MatchJSON(fmt.Sprintf(`{"path":"/%s/%s","n":1}`, ns, name)))
		}
	}
	return phases
}

// expectOnlyRunningLost checks the outcome of a killed manager: every command it was
// running (running) failed ExecutorLost under its executer name, nothing else was lost,
// and what was not run succeeded or was skipped after a predecessor's failure.
func expectOnlyRunningLost(cmds map[string]batonv1.OperatorCommand, running []string, killed string) {
	GinkgoHelper()
	for _, name := range running {
		st := cmds[name].Status
		Expect(st.Phase).To(Equal(batonv1.CommandFailed), "%s was running on the killed manager", name)
		Expect(st.Error.Reason).To(Equal(batonv1.ReasonExecutorLost))
		Expect(st.Executer).To(Equal(killed))
	}
	for _, cmd := range cmds {
		switch cmd.Status.Phase {
		case batonv1.CommandSucceeded:
		case batonv1.CommandFailed:
			Expect(cmd.Status.Error.Reason).To(Equal(batonv1.ReasonExecutorLost), cmd.Name)
			Expect(running).To(ContainElement(cmd.Name), "only what ran on the killed manager is lost")
		case batonv1.CommandSkipped:
			Expect(cmd.Status.Error.Reason).To(Equal(batonv1.ReasonPredecessorFailed), cmd.Name)
		default:
			Fail(fmt.Sprintf("%s ended %s", cmd.Name, cmd.Status.Phase))
		}
	}
}
