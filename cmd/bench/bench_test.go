package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSamples(t *testing.T) {
	tests := map[string]struct {
		in    string
		names []string
		want  []sample
	}{
		"counter with labels, comments skipped": {
			in: `# HELP apiserver_request_total Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",group="kubescape.io",resource="operatorcommands",scope="namespace",subresource="",verb="POST"} 12
`,
			want: []sample{{name: "apiserver_request_total", value: 12, labels: map[string]string{
				"code": "201", "component": "apiserver", "group": "kubescape.io", "resource": "operatorcommands",
				"scope": "namespace", "subresource": "", "verb": "POST"}}},
		},
		"no labels, exponent, timestamp": {
			in:   "go_memstats_heap_inuse_bytes 4.194304e+07 1700000000000\n",
			want: []sample{{name: "go_memstats_heap_inuse_bytes", value: 41943040, labels: map[string]string{}}},
		},
		"escaped quote and comma inside a label value": {
			in:   `m{a="x\"y,z",b="2"} 3` + "\n",
			want: []sample{{name: "m", value: 3, labels: map[string]string{"a": `x"y,z`, "b": "2"}}},
		},
		"filtered by name": {
			in:    "a 1\nb{x=\"1\"} 2\nb 4\n",
			names: []string{"b"},
			want: []sample{
				{name: "b", value: 2, labels: map[string]string{"x": "1"}},
				{name: "b", value: 4, labels: map[string]string{}},
			},
		},
		"a histogram gives its _sum and _count under the text format's names": {
			in: `# TYPE apiserver_request_duration_seconds histogram
apiserver_request_duration_seconds_bucket{resource="leases",verb="PUT",le="0.1"} 3
apiserver_request_duration_seconds_bucket{resource="leases",verb="PUT",le="+Inf"} 4
apiserver_request_duration_seconds_sum{resource="leases",verb="PUT"} 0.25
apiserver_request_duration_seconds_count{resource="leases",verb="PUT"} 4
`,
			names: []string{"apiserver_request_duration_seconds_sum", "apiserver_request_duration_seconds_count"},
			want: []sample{
				{name: "apiserver_request_duration_seconds_count", value: 4, labels: map[string]string{"resource": "leases", "verb": "PUT"}},
				{name: "apiserver_request_duration_seconds_sum", value: 0.25, labels: map[string]string{"resource": "leases", "verb": "PUT"}},
			},
		},
		"a summary too, and a gauge by its own name": {
			in: `# TYPE workqueue_depth gauge
workqueue_depth{name="sequence"} 7
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.1
rpc_seconds_sum 2
rpc_seconds_count 10
`,
			want: []sample{
				{name: "rpc_seconds_count", value: 10, labels: map[string]string{}},
				{name: "rpc_seconds_sum", value: 2, labels: map[string]string{}},
				{name: "workqueue_depth", value: 7, labels: map[string]string{"name": "sequence"}},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseSamples(strings.NewReader(tc.in), tc.names...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(sample{})); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestParseSamplesRefusesAMalformedScrape(t *testing.T) {
	for name, in := range map[string]string{
		"unclosed labels": "c{broken 3\n",
		"not a number":    "b notanumber\n",
	} {
		t.Run(name, func(t *testing.T) {
			if got, err := parseSamples(strings.NewReader("a 1\n" + in)); err == nil {
				t.Errorf("parsed %q into %v, want an error", in, got)
			}
		})
	}
}

func TestRequestDiff(t *testing.T) {
	metrics := func(lines ...string) requestCounts {
		samples, err := parseSamples(strings.NewReader(strings.Join(lines, "\n") + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		return requestsFrom(samples)
	}
	oc := func(sub, verb, code string, v string) string {
		return `apiserver_request_total{code="` + code + `",group="kubescape.io",resource="operatorcommands",subresource="` + sub + `",verb="` + verb + `"} ` + v
	}
	ev := func(group, verb, v string) string {
		return `apiserver_request_total{code="201",group="` + group + `",resource="events",subresource="",verb="` + verb + `"} ` + v
	}
	create := reqKey{Resource: "operatorcommands", Verb: "CREATE"}
	status := reqKey{Resource: "operatorcommands", Subresource: "status", Verb: "PATCH"}
	events := reqKey{Resource: "events", Verb: "CREATE"}
	tests := map[string]struct {
		before, after requestCounts
		own           requestCounts
		want          requestCounts
		wantErr       bool
		wantWrites    float64
	}{
		"codes and groups add up; the bench's own requests subtracted": {
			before: metrics(oc("", "POST", "201", "10"), oc("status", "PATCH", "200", "5"), ev("events.k8s.io", "POST", "1")),
			after: metrics(oc("", "POST", "201", "110"), oc("status", "PATCH", "200", "300"), oc("status", "PATCH", "409", "7"),
				ev("events.k8s.io", "POST", "41"), ev("", "POST", "2"), oc("", "GET", "200", "9")),
			own:        requestCounts{create: 100},
			want:       requestCounts{status: 302, events: 42, {Resource: "operatorcommands", Verb: "GET"}: 9},
			wantWrites: 302,
		},
		"PUT is an update, and a write": {
			before:     metrics(),
			after:      metrics(`apiserver_request_total{code="200",resource="commandsequences",subresource="status",verb="PUT"} 4`),
			want:       requestCounts{{Resource: "commandsequences", Subresource: "status", Verb: "UPDATE"}: 4},
			wantWrites: 4,
		},
		"a counter that went down is an error": {
			before:  metrics(oc("", "POST", "201", "10")),
			after:   metrics(oc("", "POST", "201", "3")),
			wantErr: true,
		},
		"the bench claiming more than the server saw is an error": {
			before:  metrics(oc("", "POST", "201", "0")),
			after:   metrics(oc("", "POST", "201", "5")),
			own:     requestCounts{create: 6},
			want:    requestCounts{},
			wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			diff, err := tc.after.minus(tc.before)
			if err == nil {
				diff, err = diff.subtract(tc.own)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if tc.want == nil {
				return
			}
			if d := cmp.Diff(tc.want, diff, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
			if got := diff.writes(ourKinds...); got != tc.wantWrites {
				t.Errorf("writes = %v, want %v", got, tc.wantWrites)
			}
		})
	}
}

func TestSummarise(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		var out []time.Duration
		for _, v := range vs {
			out = append(out, time.Duration(v)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted
	}
	tests := map[string]struct {
		in   []time.Duration
		want latencies
	}{
		"none":   {in: nil, want: latencies{}},
		"one":    {in: ms(7), want: latencies{N: 1, P50: 7 * time.Millisecond, P99: 7 * time.Millisecond, Max: 7 * time.Millisecond}},
		"1…100":  {in: ms(hundred...), want: latencies{N: 100, P50: 50 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
		"two":    {in: ms(30, 10), want: latencies{N: 2, P50: 10 * time.Millisecond, P99: 30 * time.Millisecond, Max: 30 * time.Millisecond}},
		"a tail": {in: ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 500), want: latencies{N: 10, P50: time.Millisecond, P99: 500 * time.Millisecond, Max: 500 * time.Millisecond}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, summarise(tc.in)); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestGateLatencies(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := map[string]struct {
		commands    map[string]seen
		external    bool
		want        []time.Duration
		wantMissing int
	}{
		"a chain: each step from its predecessor's completion": {
			commands: map[string]seen{
				"a": {Seq: "s", Index: 0, Started: at(0), Completed: at(10)},
				"b": {Seq: "s", Index: 1, Started: at(15), Completed: at(20)},
				"c": {Seq: "s", Index: 2, Started: at(50), Completed: at(60)},
			},
			want: []time.Duration{5 * time.Millisecond, 30 * time.Millisecond},
		},
		"a batch opens when its last predecessor completes; indexes need not be contiguous": {
			commands: map[string]seen{
				"a1": {Seq: "s", Index: 3, Completed: at(10)},
				"a2": {Seq: "s", Index: 3, Completed: at(40)},
				"b1": {Seq: "s", Index: 7, Started: at(42)},
				"b2": {Seq: "s", Index: 7, Started: at(45)},
				"x":  {Seq: "other", Index: 0, Completed: at(0)},
				"y":  {Seq: "other", Index: 1, Started: at(1)},
			},
			want: []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond},
		},
		"external: gate label, not started; unseen openings counted": {
			external: true,
			commands: map[string]seen{
				"a": {Seq: "s", Index: 0, Gated: at(0), Started: at(5), Completed: at(10)},
				"b": {Seq: "s", Index: 1, Gated: at(12), Started: at(14), Completed: at(20)},
				"c": {Seq: "s", Index: 2, Started: at(30)},
			},
			want:        []time.Duration{2 * time.Millisecond},
			wantMissing: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			gates, missing := gateLatencies(tc.commands, tc.external)
			var got []time.Duration
			for _, g := range gates {
				got = append(got, g.Delay)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.SortSlices(func(a, b time.Duration) bool { return a < b })); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
			if missing != tc.wantMissing {
				t.Errorf("missing = %d, want %d", missing, tc.wantMissing)
			}
		})
	}
}

func TestSettingsSelection(t *testing.T) {
	t.Setenv("BENCH_ONLY", "A,chains")
	t.Setenv("BENCH_CHAINS", "10,10000")
	s, err := loadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if !s.runs("A") || !s.runs("chains") || s.runs("B") || s.runs("stored") {
		t.Errorf("BENCH_ONLY=A,chains runs A %t, chains %t, B %t, stored %t", s.runs("A"), s.runs("chains"), s.runs("B"), s.runs("stored"))
	}
	if !slices.Equal(s.Chains, []int{10, 10000}) {
		t.Errorf("chains %v, want [10 10000]", s.Chains)
	}
	for env, bad := range map[string]string{"BENCH_ONLY": "A,D", "BENCH_CHAINS": "10,5"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			if _, err := loadSettings(); err == nil {
				t.Errorf("%s=%s accepted", env, bad)
			}
		})
	}
}

func TestAPIMetrics(t *testing.T) {
	scrape := func(lines ...string) apiMetrics {
		samples, err := parseSamples(strings.NewReader(strings.Join(lines, "\n")+"\n"), apiMetricNames...)
		if err != nil {
			t.Fatal(err)
		}
		return apiMetricsFrom(samples)
	}
	labels := `{code="%s",resource="%s",subresource="status",verb="PATCH"}`
	line := func(metric, code, resource string, v float64) string {
		return metric + fmt.Sprintf(labels, code, resource) + " " + fmt.Sprint(v)
	}
	dur := func(suffix, resource string, v float64) string {
		return "apiserver_request_duration_seconds_" + suffix + `{resource="` + resource + `",subresource="status",verb="PATCH"} ` + fmt.Sprint(v)
	}
	before := scrape(line("apiserver_request_total", "200", "operatorcommands", 10), line("apiserver_request_total", "409", "operatorcommands", 1),
		dur("sum", "operatorcommands", 0.5), dur("count", "operatorcommands", 11),
		dur("sum", "leases", 9), dur("count", "leases", 1))
	after := scrape(line("apiserver_request_total", "200", "operatorcommands", 40), line("apiserver_request_total", "409", "operatorcommands", 5),
		line("apiserver_request_total", "409", "commandsequences", 2),
		dur("sum", "operatorcommands", 2.5), dur("count", "operatorcommands", 45), dur("sum", "commandsequences", 1), dur("count", "commandsequences", 2),
		dur("sum", "leases", 99), dur("count", "leases", 2))
	diff, err := after.minus(before)
	if err != nil {
		t.Fatal(err)
	}
	if got := diff.requests.writes(ourKinds...); got != 36 {
		t.Errorf("writes = %v, want 36", got)
	}
	if got := diff.conflicts.writes(ourKinds...); got != 6 {
		t.Errorf("conflicts = %v, want 6", got)
	}
	// (2 + 1) s over 36 writes to baton's kinds; the lease's 90 s are not theirs.
	if got, want := diff.meanWriteLatency(ourKinds...), time.Second*3/36; got != want {
		t.Errorf("mean write latency = %v, want %v", got, want)
	}
	if got := (apiMetrics{}).meanWriteLatency(ourKinds...); got != 0 {
		t.Errorf("mean write latency of no writes = %v, want 0", got)
	}
	if _, err := before.minus(after); err == nil {
		t.Error("counters that went down were accepted")
	}
}

func TestCPUShare(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cores := float64(runtime.NumCPU())
	before := cpuSample{at: t0, roles: [nRoles]float64{10, 5, 1, 2}, machine: 100}
	// Over 2 s the machine has 2 × cores seconds of CPU.
	after := cpuSample{at: t0.Add(2 * time.Second), roles: [nRoles]float64{10 + cores, 5, 1 + cores/2, 2}, machine: 100 + 2*cores}
	got := after.since(before)
	want := cpuShare{Roles: [nRoles]float64{0.5, 0, 0.25, 0}, Rest: 0.25, Capacity: 2 * cores}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if s := got.String(); s != "50 / 0 / 25 / 0 / 25 %" {
		t.Errorf("String() = %q", s)
	}
	// The API server used cores seconds for 1,000 writes.
	if got, want := got.perWrite(roleAPIServer, 1000), time.Duration(cores*float64(time.Millisecond)); got < want-time.Microsecond || got > want+time.Microsecond {
		t.Errorf("API server CPU per write = %v, want %v", got, want)
	}
	if got := got.perWrite(roleAPIServer, 0); got != 0 {
		t.Errorf("CPU per write of no writes = %v, want 0", got)
	}

	// This process's own CPU, read from /proc, grows as it works.
	self := [nRoles]int{roleBench: os.Getpid()}
	start := readCPU(self)
	for x := 0; time.Since(start.at) < 300*time.Millisecond; x++ {
		_ = strconv.Itoa(x)
	}
	end := readCPU(self)
	if used := end.roles[roleBench] - start.roles[roleBench]; used < 0.1 {
		t.Errorf("a busy loop of 0.3 s used %v s of CPU, by /proc", used)
	}
	if end.machine <= start.machine {
		t.Errorf("the machine's busy time did not grow: %v → %v", start.machine, end.machine)
	}
}

func TestGateWindowsAndDurations(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	commands := map[string]seen{
		"a0": {Seq: "a", Index: 0, Started: at(0), Completed: at(100)},
		"a1": {Seq: "a", Index: 1, Started: at(400), Completed: at(500)},   // opened at 400, 300 late
		"b0": {Seq: "b", Index: 0, Gated: at(50), Completed: at(2000)},     // external: gated, not started
		"b1": {Seq: "b", Index: 1, Started: at(2010), Completed: at(3000)}, // opened at 2010, 10 late
		"c0": {Seq: "c", Index: 0, Started: at(5)},                         // never completed
	}
	gates, _ := gateLatencies(commands, false)
	ms := time.Millisecond
	if got, want := delays(gates, time.Time{}, time.Time{}), (latencies{N: 2, P50: 10 * ms, P99: 300 * ms, Max: 300 * ms}); got != want {
		t.Errorf("every gate: %+v, want %+v", got, want)
	}
	if got, want := delays(gates, at(1000), time.Time{}), (latencies{N: 1, P50: 10 * ms, P99: 10 * ms, Max: 10 * ms}); got != want {
		t.Errorf("gates opened after 1 s: %+v, want %+v", got, want)
	}
	if got, want := delays(gates, time.Time{}, at(400)), (latencies{}); got != want {
		t.Errorf("gates opened before 400 ms (the bound excluded): %+v, want none", got)
	}
	// a: 0 → 500; b: 50 → 3000; c never completed.
	if got, want := sequenceDurations(commands), (latencies{N: 2, P50: 500 * ms, P99: 2950 * ms, Max: 2950 * ms}); got != want {
		t.Errorf("sequence durations: %+v, want %+v", got, want)
	}
}

func TestQueueTimes(t *testing.T) {
	before := queueTimes{Waited: 1, Waits: 10, Worked: 2, Works: 10}
	after := queueTimes{Waited: 3, Waits: 30, Worked: 2.5, Works: 20}
	d := after.minus(before)
	if got, want := d.meanWait(), 100*time.Millisecond; got != want {
		t.Errorf("mean wait = %v, want %v (2 s over 20 items)", got, want)
	}
	if got, want := d.meanWork(), 50*time.Millisecond; got != want {
		t.Errorf("mean reconcile = %v, want %v (0.5 s over 10)", got, want)
	}
	if got := (queueTimes{}).meanWait(); got != 0 {
		t.Errorf("mean of nothing = %v, want 0", got)
	}
}
