package controllers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/controllers"
	"github.com/batonhq/baton/internal/operatorsim"
	"github.com/batonhq/baton/sequence"
)

// simRecord is what the simulated operator did, for the specs: when it first saw each
// command ADDED, how often it saw each one ADDED and ran it, and what it skipped.
type simRecord struct {
	mu        sync.Mutex
	firstSeen map[string]time.Time
	added     map[string]int
	ran       map[string]int
	ranAt     map[string]time.Time
	skipped   map[string]operatorsim.Skip
}

func newSimRecord() *simRecord {
	return &simRecord{firstSeen: map[string]time.Time{}, added: map[string]int{}, ran: map[string]int{},
		ranAt: map[string]time.Time{}, skipped: map[string]operatorsim.Skip{}}
}

// hook fills the record from op's callbacks, wrapping a Seen the spec set.
func (r *simRecord) hook(op *operatorsim.Operator) {
	seen := op.Seen
	op.Seen = func(t watch.EventType, cmd *batonv1.OperatorCommand) {
		now := time.Now()
		r.mu.Lock()
		if t == watch.Added {
			r.added[cmd.Name]++
			if _, ok := r.firstSeen[cmd.Name]; !ok {
				r.firstSeen[cmd.Name] = now
			}
		}
		r.mu.Unlock()
		if seen != nil {
			seen(t, cmd)
		}
	}
	op.Done = func(cmd *batonv1.OperatorCommand) {
		now := time.Now()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.ran[cmd.Name]++
		r.ranAt[cmd.Name] = now
	}
	op.Skipped = func(cmd *batonv1.OperatorCommand, why operatorsim.Skip) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.skipped[cmd.Name] = why
	}
}

func (r *simRecord) skip(name string) func() operatorsim.Skip {
	return func() operatorsim.Skip {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.skipped[name]
	}
}

func (r *simRecord) runs(name string) func() int {
	return func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.ran[name]
	}
}

// runSim runs op until the spec ends (or the returned stop is called), and waits for it.
func runSim(op *operatorsim.Operator) (stop func()) {
	ctx, cancel := context.WithCancel(suiteCt)
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		Expect(op.Run(ctx)).To(Succeed())
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	DeferCleanup(stop)
	return stop
}

// gateOpenedAt is when baton opened a command's gate: the time of the managed-fields entry
// that owns the gate label (one-second precision, so never later than the patch).
func gateOpenedAt(cmd *batonv1.OperatorCommand) time.Time {
	for _, mf := range cmd.ManagedFields {
		if mf.FieldsV1 != nil && strings.Contains(string(mf.FieldsV1.Raw), `"f:`+batonv1.LabelGate+`"`) {
			return mf.Time.Time
		}
	}
	Fail("no managed-fields entry owns the gate label of " + cmd.Name)
	return time.Time{}
}

// gateOpenedEvent is the eventTime (microseconds) of baton's GateOpened event on a command.
func gateOpenedEvent(ns, name string) time.Time {
	var list eventsv1.EventList
	Expect(k8s.List(suiteCt, &list, client.InNamespace(ns))).To(Succeed())
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == "GateOpened" {
			return e.EventTime.Time
		}
	}
	Fail("no GateOpened event on " + name)
	return time.Time{}
}

var _ = Describe("the simulated Kubescape operator, with its real 5 s cooldown", func() {
	It("runs two successive held steps and a parallel batch of three, each once, each only after its gate opened", func() {
		ns := newNamespace()
		opts := testOptions()
		opts.CommandEvents = controllers.EventsOutcomes // GateOpened, timed below
		startManager(opts, newHandlers(ns))
		rec := newSimRecord()
		op := &operatorsim.Operator{Client: k8s, Namespace: ns, Cooldown: operatorsim.RealCooldown, Log: GinkgoLogr}
		rec.hook(op)
		runSim(op)

		cmds, err := sequence.Build(&sequence.File{Sequence: "sim", TTL: sequence.Duration(2 * time.Minute), Steps: []sequence.Step{
			{Name: "sim-first", Type: operatorsim.OperatorAPI, Body: map[string]any{"commandName": "first"}},
			{Name: "sim-second", Type: operatorsim.OperatorAPI, Body: map[string]any{"commandName": "second"}},
			{Name: "sim-a", Type: operatorsim.OperatorAPI, Body: map[string]any{"commandName": "a"}, Batch: ptr.To(2)},
			{Name: "sim-b", Type: operatorsim.OperatorAPI, Body: map[string]any{"commandName": "b"}, Batch: ptr.To(2)},
			{Name: "sim-c", Type: operatorsim.OperatorAPI, Body: map[string]any{"commandName": "c"}, Batch: ptr.To(2)},
		}}, sequence.Options{Namespace: ns, Executor: operatorsim.AppName})
		Expect(err).NotTo(HaveOccurred())
		Expect(sequence.Create(suiteCt, k8s, cmds)).To(Succeed())

		Eventually(sequencePhase(ns, "sim"), time.Minute).Should(Equal(batonv1.SequenceSucceeded))

		rec.mu.Lock()
		defer rec.mu.Unlock()
		Expect(rec.skipped).To(BeEmpty(), "nothing dropped: baton wrote nothing to a command after its gate opened")
		batchDone := map[int]time.Time{} // the latest completion of each batch
		for _, c := range cmds {
			name, batch := c.Name, *c.Spec.CommandIndex
			By("running " + name + " once, after its gate opened and its cooldown passed")
			Expect(rec.added[name]).To(Equal(1), "seen ADDED once")
			Expect(rec.ran[name]).To(Equal(1), "run once")
			cmd := getCommand(ns, name)
			Expect(cmd.Status.Executer).To(Equal(operatorsim.AppName))
			Expect(cmd.Status.Phase).To(Equal(batonv1.CommandSucceeded))
			Expect(cmd.Status.Error).To(BeNil(), "an unknown commandName is reported as success")
			Expect(cmd.Status.StartedAt.Time).To(Equal(cmd.Status.CompletedAt.Time), "one status patch, started and completed together")

			opened := gateOpenedAt(cmd)
			Expect(rec.firstSeen[name]).To(BeTemporally(">=", opened), "first seen ADDED only once its gate opened")
			Expect(rec.ranAt[name]).To(BeTemporally(">", gateOpenedEvent(ns, name)), "run after baton recorded its GateOpened event")
			Expect(rec.ranAt[name]).To(BeTemporally(">=", rec.firstSeen[name].Add(operatorsim.RealCooldown)), "run a full cooldown after it was seen")
			if batch > 0 {
				prev := 0
				if batch == 2 {
					prev = 1
				}
				Expect(opened).To(BeTemporally(">=", batchDone[prev].Truncate(time.Second)),
					"its gate opened after the batch before it completed")
			}
			if cmd.Status.CompletedAt.Time.After(batchDone[batch]) {
				batchDone[batch] = cmd.Status.CompletedAt.Time
			}
		}
	})
})

var _ = Describe("the simulated Kubescape operator", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace() })

	held := func(name, commandType string, body []byte) *batonv1.OperatorCommand {
		cmd := newCommand(ns, name).Type(commandType).Label(batonv1.LabelAppName, operatorsim.AppName).Obj()
		cmd.Spec.Body = body
		Expect(k8s.Create(suiteCt, cmd)).To(Succeed())
		return cmd
	}

	It("reports OperatorAPI commands from their body, success or error.message, in one patch", func() {
		rec := newSimRecord()
		op := &operatorsim.Operator{Client: k8s, Namespace: ns, Log: GinkgoLogr, Commands: map[string]operatorsim.Command{
			"echo": func(_ context.Context, _ *batonv1.OperatorCommand, b operatorsim.Body) ([]byte, error) {
				return []byte(`{"echo":"` + b.Args["say"].(string) + `"}`), nil
			},
			"broken": func(context.Context, *batonv1.OperatorCommand, operatorsim.Body) ([]byte, error) {
				return nil, errors.New("registry unreachable")
			},
		}}
		rec.hook(op)
		runSim(op)
		held("echo", operatorsim.OperatorAPI, []byte(`{"commandName":"echo","args":{"say":"hi"}}`))
		held("broken", operatorsim.OperatorAPI, []byte(`{"commandName":"broken"}`))
		held("unknown", operatorsim.OperatorAPI, []byte(`{"commandName":"noSuchCommand"}`))
		held("garbled", operatorsim.OperatorAPI, []byte(`not JSON`))

		for _, name := range []string{"echo", "broken", "unknown", "garbled"} {
			Eventually(rec.runs(name), wait).Should(Equal(1), name)
		}
		echo := getCommand(ns, "echo").Status
		Expect(echo.Started && echo.Completed).To(BeTrue())
		Expect(echo.Executer).To(Equal(operatorsim.AppName))
		Expect(string(echo.Payload)).To(MatchJSON(`{"echo":"hi"}`))
		Expect(getCommand(ns, "broken").Status.Error.Message).To(Equal("registry unreachable"))
		Expect(getCommand(ns, "unknown").Status.Error).To(BeNil(), "an unknown commandName is logged and reported as success")
		Expect(getCommand(ns, "garbled").Status.Error.Message).To(HavePrefix("decoding the OperatorAPI request in spec.body"))
	})

	It("skips completed commands, old ones, and other types unless its vulnerability component is on; a restart runs again what is not completed", func() {
		done := held("done", operatorsim.OperatorAPI, []byte(`{"commandName":"x"}`))
		orig := done.DeepCopy()
		done.Status.Completed = true
		Expect(k8s.Status().Patch(suiteCt, done, client.MergeFrom(orig))).To(Succeed())
		held("scan", "StartCVEScan", nil)

		rec := newSimRecord()
		op := &operatorsim.Operator{Client: k8s, Namespace: ns, Log: GinkgoLogr}
		rec.hook(op)
		stop := runSim(op)
		Eventually(rec.skip("done"), wait).Should(Equal(operatorsim.Completed))
		Eventually(rec.skip("scan"), wait).Should(Equal(operatorsim.NotHandled))
		stop()

		By("a restart with the vulnerability component on")
		rec = newSimRecord()
		op = &operatorsim.Operator{Client: k8s, Namespace: ns, Vulnerability: true, Log: GinkgoLogr}
		rec.hook(op)
		stop = runSim(op)
		Eventually(rec.runs("scan"), wait).Should(Equal(1))
		Expect(string(getCommand(ns, "scan").Status.Payload)).To(MatchJSON(`{"commandType":"StartCVEScan","scanned":true}`))
		Eventually(rec.skip("done"), wait).Should(Equal(operatorsim.Completed))
		stop()

		By("an operator whose age cutoff every command passed")
		held("late", operatorsim.OperatorAPI, []byte(`{"commandName":"x"}`))
		rec = newSimRecord()
		op = &operatorsim.Operator{Client: k8s, Namespace: ns, MaxAge: time.Nanosecond, Log: GinkgoLogr}
		rec.hook(op)
		runSim(op)
		Eventually(rec.skip("late"), wait).Should(Equal(operatorsim.TooOld))
		Expect(getCommand(ns, "late").Status.Completed).To(BeFalse())
	})

	It("drops a command modified during its cooldown, and watches its own namespace only", func() {
		other := newNamespace()
		rec := newSimRecord()
		op := &operatorsim.Operator{Client: k8s, Namespace: ns, Cooldown: 2 * time.Second, Log: GinkgoLogr,
			Seen: func(t watch.EventType, cmd *batonv1.OperatorCommand) {
				if t == watch.Added && cmd.Name == "touched" {
					// A write within the cooldown, as a baton that wrote after the gate would.
					orig := cmd.DeepCopy()
					patched := cmd.DeepCopy()
					patched.Annotations = map[string]string{"test/touch": "1"}
					Expect(k8s.Patch(suiteCt, patched, client.MergeFrom(orig))).To(Succeed())
				}
			}}
		rec.hook(op)
		runSim(op)
		held("touched", operatorsim.OperatorAPI, []byte(`{"commandName":"x"}`))
		held("quiet", operatorsim.OperatorAPI, []byte(`{"commandName":"x"}`))
		elsewhere := newCommand(other, "elsewhere").Type(operatorsim.OperatorAPI).Label(batonv1.LabelAppName, operatorsim.AppName).Create()

		Eventually(rec.skip("touched"), wait).Should(Equal(operatorsim.Dropped))
		Eventually(rec.runs("quiet"), wait).Should(Equal(1))
		Expect(getCommand(ns, "touched").Status.Completed).To(BeFalse())
		rec.mu.Lock()
		defer rec.mu.Unlock()
		Expect(rec.added).NotTo(HaveKey(elsewhere.Name), "another namespace's command is never seen")
		Expect(rec.ran).NotTo(HaveKey("touched"))
	})
})
