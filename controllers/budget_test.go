package controllers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/controllers"
)

// apiWrites reads the API server's own count of writes (apiserver_request_total, creates
// and reads left out) to baton's kinds, by "resource[/subresource] VERB". Writes refused
// as conflicts count: the API server served them, as make bench counts them.
func apiWrites() map[string]float64 {
	return apiRequests(func(verb, _ string) bool {
		switch verb {
		case "PATCH", "UPDATE", "APPLY", "DELETE":
			return true
		}
		return false
	})
}

// apiRequests reads the API server's own count of the requests to baton's kinds that keep
// accepts, by "resource[/subresource] VERB".
func apiRequests(keep func(verb, code string) bool) map[string]float64 {
	cs, err := kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(suiteCt)
	Expect(err).NotTo(HaveOccurred())
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	Expect(err).NotTo(HaveOccurred())
	out := map[string]float64{}
	for _, m := range families["apiserver_request_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["resource"] != "operatorcommands" && labels["resource"] != "commandsequences" ||
			!keep(labels["verb"], labels["code"]) {
			continue
		}
		key := labels["resource"]
		if sub := labels["subresource"]; sub != "" {
			key += "/" + sub
		}
		out[key+" "+labels["verb"]] += m.GetCounter().GetValue()
	}
	return out
}

func total(writes map[string]float64) float64 {
	sum := 0.0
	for _, v := range writes {
		sum += v
	}
	return sum
}

func diffWrites(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// commandEvents counts the Events on the namespace's commands (a series as its count), by
// reason.
func commandEvents(ns string) map[string]int {
	var list eventsv1.EventList
	Expect(k8s.List(suiteCt, &list, client.InNamespace(ns))).To(Succeed())
	out := map[string]int{}
	for _, e := range list.Items {
		if e.Regarding.Kind != "OperatorCommand" {
			continue
		}
		n := 1
		if e.Series != nil {
			n = int(e.Series.Count)
		}
		out[e.Reason] += n
	}
	return out
}

func chain(ns, seq, commandType string, n int) {
	for i := range n {
		newCommand(ns, fmt.Sprintf("%s-%d", seq, i)).In(seq, i, n).Type(commandType).Create()
	}
}

// The write budget of DESIGN.md 5b, counted at the API server. The specs run one at a time
// and every other spec's manager is stopped, so the server's counters are this spec's.
var _ = Describe("the write budget", func() {
	const steps = 10
	var (
		ns string
		h  *handlers
	)
	BeforeEach(func() {
		ns = newNamespace()
		h = newHandlers(ns)
	})

	It("spends at most 2.5 writes per in-process command, and by default no Event on a command that succeeds", func() {
		startManager(testOptions(), h)
		before := apiWrites()
		chain(ns, "budget", "record", steps)
		Eventually(sequencePhase(ns, "budget"), wait).Should(Equal(batonv1.SequenceSucceeded))
		writes := diffWrites(apiWrites(), before)
		By(fmt.Sprintf("writes: %v", writes))
		Expect(total(writes)).To(BeNumerically("<=", 2.5*steps))
		Expect(writes["operatorcommands/status PATCH"]).To(Equal(2.0*steps), "a claim and a result each")
		Eventually(sequenceEvents(ns, "budget"), wait).Should(HaveLen(2), "its start and its end")
		Consistently(func() map[string]int { return commandEvents(ns) }, 2*time.Second).Should(BeEmpty())
	})

	It("spends at most 3.5 writes per external command, the executor's report apart", func() {
		op := startOperator(ns, batonv1.LabelGate+"="+batonv1.GateOpen, 10*time.Millisecond)
		startManager(testOptions(), h)
		before := apiWrites()
		chain(ns, "remote", "ScanImage", steps)
		Eventually(sequencePhase(ns, "remote"), wait).Should(Equal(batonv1.SequenceSucceeded))
		Expect(op.actedOn()).To(HaveLen(steps))
		writes := diffWrites(apiWrites(), before)
		By(fmt.Sprintf("writes, the executor's %d status patches included: %v", steps, writes))
		Expect(total(writes) - steps).To(BeNumerically("<=", 3.5*steps))
		Eventually(sequenceEvents(ns, "remote"), wait).Should(HaveLen(2), "its start and its end")
		Consistently(func() map[string]int { return commandEvents(ns) }, time.Second).Should(BeEmpty())
	})

	It("creates each CommandSequence once, however fast its members arrive", func() {
		const sequences, members = 20, 5
		startManager(testOptions(), h)
		creates := func() float64 {
			// Every create, refused ones included: a second create of one sequence fails.
			return apiRequests(func(verb, _ string) bool { return verb == "POST" })["commandsequences POST"]
		}
		before := creates()
		created := make(chan [2]int)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				for c := range created {
					newCommand(ns, fmt.Sprintf("fast-%02d-%d", c[0], c[1])).In(fmt.Sprintf("fast-%02d", c[0]), c[1], members).Create()
				}
			})
		}
		for m := range members {
			for q := range sequences {
				created <- [2]int{q, m}
			}
		}
		close(created)
		wg.Wait()
		for q := range sequences {
			Eventually(sequencePhase(ns, fmt.Sprintf("fast-%02d", q)), wait).Should(Equal(batonv1.SequenceSucceeded))
		}
		Expect(creates() - before).To(Equal(float64(sequences)))
	})

	DescribeTable("--command-events",
		func(policy controllers.CommandEvents, want map[string]int) {
			opts := testOptions()
			opts.CommandEvents = policy
			startManager(opts, h)
			newCommand(ns, "noisy-0").In("noisy", 0, 3).Create()
			newCommand(ns, "noisy-1").In("noisy", 1, 3).Create()
			newCommand(ns, "noisy-bad").In("noisy", 2, 3).Type("fail").Create()
			Eventually(sequencePhase(ns, "noisy"), wait).Should(Equal(batonv1.SequenceFailed))
			Eventually(func() map[string]int { return commandEvents(ns) }, wait).Should(Equal(want))
			Consistently(func() map[string]int { return commandEvents(ns) }, time.Second).Should(Equal(want))
		},
		Entry("outcomes: one per terminal outcome, every Warning (GateOpened: operator_sim_test.go)", controllers.EventsOutcomes,
			map[string]int{"Succeeded": 2, batonv1.ReasonHandlerFailed: 1}),
		Entry("all: Started besides", controllers.EventsAll,
			map[string]int{"Started": 3, "Succeeded": 2, batonv1.ReasonHandlerFailed: 1}),
		Entry("warnings: Warnings only", controllers.EventsWarnings,
			map[string]int{batonv1.ReasonHandlerFailed: 1}),
	)
})

var _ = Describe("a large sequence", func() {
	It("finishes 2,000 members in batches of 50 with a bounded report in one final write", func() {
		const members, width = 2000, 50
		ns := newNamespace()
		h := newHandlers(ns)
		opts := testOptions()
		opts.Engine.ReportMaxBytes = 0 // the default cap
		opts.MaxConcurrentSteps = 16
		startManager(opts, h)
		created := make(chan int)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := range created {
					newCommand(ns, fmt.Sprintf("big-%04d", i)).In("big", i/width, members).TTL(10 * time.Minute).Create()
				}
			})
		}
		start := time.Now()
		for i := range members {
			created <- i
		}
		close(created)
		wg.Wait()
		By(fmt.Sprintf("created in %s", time.Since(start).Round(time.Millisecond)))
		Eventually(sequencePhase(ns, "big"), 5*time.Minute, time.Second).Should(Equal(batonv1.SequenceSucceeded))
		By(fmt.Sprintf("finished %s after the first create", time.Since(start).Round(time.Millisecond)))
		seq := getSequence(ns, "big")
		Expect(seq.Status.Progress).To(Equal("2000/2000"))
		Expect(seq.Status.Report).NotTo(BeNil())
		data, err := json.Marshal(seq)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(data)).To(BeNumerically("<", 512<<10))
		By(fmt.Sprintf("a %d-byte CommandSequence, %d report lines, complete %t", len(data), len(seq.Status.Report.Members), seq.Status.Report.Complete))
	})
})
