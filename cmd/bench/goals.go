package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// goal is one target of DESIGN 5b and issue 19: a figure of a build, and whether the
// current build's meets it (absolute targets, or relative to the baseline's figure).
type goal struct {
	label, target string
	value         func(buildResult) float64 // NaN: not measured
	format        func(float64) string
	// met judges the current build's v (and the baseline's, for relative goals); ok is
	// false when it cannot be judged.
	met func(v, baseline float64) (met, ok bool)
}

func atMost(limit float64) func(v, _ float64) (bool, bool) {
	return func(v, _ float64) (bool, bool) { return v <= limit, !math.IsNaN(v) }
}

func atLeast(limit float64) func(v, _ float64) (bool, bool) {
	return func(v, _ float64) (bool, bool) { return v >= limit, !math.IsNaN(v) }
}

// notWorse is a relative goal: lower is better, with a tolerance for the noise between
// two measures of one run on a shared machine.
func notWorse(tolerance float64) func(v, baseline float64) (bool, bool) {
	return func(v, baseline float64) (bool, bool) {
		return v <= baseline*(1+tolerance), !math.IsNaN(v) && !math.IsNaN(baseline)
	}
}

// noiseTolerance is how much worse than the baseline a relative goal may measure and
// still be met: within one run, repeated measures of one build differ by about that much.
const noiseTolerance = 0.05

// longChain is the shortest chain the chain goals apply to (the 100 and 1,000
// steps).
const longChain = 100

// goals lists the targets, for the workloads and chains the results hold.
func goals(results []buildResult) []goal {
	gs := []goal{
		{label: workloadA + ": writes + Events per command", target: "≤ 2.0", format: num(2), met: atMost(2.0),
			value: wl(workloadA, func(w workloadResult, _ buildResult) float64 { return costPerCommand(w) })},
	}
	// "Long chains": a chain of 10 cannot reach 1.1, its create, final write and two
	// Events being 0.4 a step on top of the step's one write.
	chains := chainNames(results)
	long := slices.DeleteFunc(slices.Clone(chains), func(name string) bool { return chainSteps(results, name) < longChain })
	for _, name := range long {
		gs = append(gs, goal{label: name + ": writes + Events per command", target: "≤ 1.1", format: num(2), met: atMost(1.1),
			value: wl(name, func(w workloadResult, _ buildResult) float64 { return costPerCommand(w) })})
	}
	gs = append(gs,
		goal{label: "C external: writes + Events per command (the executor's report excluded)", target: "≤ 4.0", format: num(2), met: atMost(4.0),
			value: wl("C external", func(w workloadResult, _ buildResult) float64 { return costPerCommand(w) })},
		goal{label: workloadA + ": everything the API server served per command (every client's writes, creates and Events included)", target: "≤ 3.2",
			format: num(2), met: atMost(3.2),
			value: wl(workloadA, func(w workloadResult, _ buildResult) float64 { return w.ServerWrites / float64(w.Commands) })},
		goal{label: workloadA + ": commands/s ÷ ceiling (8 workers)", target: "≥ 0.25", format: num(3), met: atLeast(0.25),
			value: wl(workloadA, func(w workloadResult, b buildResult) float64 { return w.PerSec / b.Ceiling.Eight })},
		goal{label: workloadA + ": loaded gate p99, ms", target: "≤ 1000", format: num(0), met: atMost(1000),
			value: wl(workloadA, func(w workloadResult, _ buildResult) float64 { return gateP99(w) })},
	)
	for _, name := range long {
		gs = append(gs, goal{label: name + ": unloaded gate p99, ms", target: "≤ 25", format: num(1), met: atMost(25),
			value: wl(name, func(w workloadResult, _ buildResult) float64 { return gateP99(w) })})
	}
	gs = append(gs, goal{label: "manager RSS, commands stored", target: fmt.Sprintf("≤ baseline (+%.0f %%)", noiseTolerance*100), format: mib,
		met: notWorse(noiseTolerance), value: func(b buildResult) float64 {
			if b.Build.Name == peerTekton { // not the same objects stored
				return math.NaN()
			}
			return nanIfZero(b.Stored.RSS)
		}})
	if len(chains) > 1 {
		first, last := chains[0], chains[len(chains)-1]
		gs = append(gs, goal{label: fmt.Sprintf("%s: time per step ÷ %s", last, first), target: fmt.Sprintf("≤ baseline (+%.0f %%)", noiseTolerance*100),
			format: num(2), met: notWorse(noiseTolerance), value: func(b buildResult) float64 {
				w, ok1 := workload(b, last)
				w0, ok2 := workload(b, first)
				if !ok1 || !ok2 || stepTime(w0) == 0 {
					return math.NaN()
				}
				return float64(stepTime(w)) / float64(stepTime(w0))
			}})
	}
	return gs
}

// gateP99 is a workload's gate p99 in ms; NaN without gates.
func gateP99(w workloadResult) float64 {
	if w.Gate.N == 0 {
		return math.NaN()
	}
	return float64(w.Gate.P99) / float64(time.Millisecond)
}

// chainNames are the chains the builds ran (the peer's too), shortest first.
func chainNames(results []buildResult) []string {
	var names []string
	steps := map[string]int{}
	for _, b := range results {
		for _, c := range b.Chains {
			if _, ok := steps[c.Name]; !ok {
				steps[c.Name] = c.Shape.Steps
				names = append(names, c.Name)
			}
		}
	}
	slices.SortStableFunc(names, func(a, b string) int { return steps[a] - steps[b] })
	return names
}

func chainSteps(results []buildResult, name string) int {
	for _, b := range results {
		for _, c := range b.Chains {
			if c.Name == name {
				return c.Shape.Steps
			}
		}
	}
	return 0
}

// goalVerdict is met, missed, or – when the current build's figure (or, for a relative
// goal, the baseline's) was not measured.
func goalVerdict(g goal, results []buildResult) string {
	cur, base := math.NaN(), math.NaN()
	for _, b := range results {
		switch b.Build.Name {
		case "current":
			cur = g.value(b)
		case "baseline":
			base = g.value(b)
		}
	}
	met, ok := g.met(cur, base)
	switch {
	case !ok:
		return "–"
	case met:
		return "met"
	default:
		return "**missed**"
	}
}

// writeGoals prints the goals beside every build's figure (the peer's where it has one).
func writeGoals(w io.Writer, results []buildResult) {
	header := []string{"goal", "target"}
	for _, b := range results {
		header = append(header, fmt.Sprintf("%s (`%s`)", b.Build.Name, b.Build.Rev))
	}
	header = append(header, "current: met?")
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, g := range goals(results) {
		cells := []string{g.label, g.target}
		for _, b := range results {
			if v := g.value(b); math.IsNaN(v) {
				cells = append(cells, "–")
			} else {
				cells = append(cells, g.format(v))
			}
		}
		cells = append(cells, goalVerdict(g, results))
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}
