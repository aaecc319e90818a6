package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// table is a markdown table with one column per build (the peer's last) and, when both
// the baseline and the current build were measured, current ÷ baseline.
type table struct {
	builds []buildResult
	rows   [][]string
}

// compared are the columns of the baseline and the current build; ok when both are there.
func (t *table) compared() (baseline, current int, ok bool) {
	baseline, current = -1, -1
	for i, b := range t.builds {
		switch b.Build.Name {
		case "baseline":
			baseline = i
		case "current":
			current = i
		}
	}
	return baseline, current, baseline >= 0 && current >= 0
}

// row adds a measure: value extracts a number from a build (NaN: not measured), format
// prints it; ratio says whether current ÷ baseline is meaningful.
func (t *table) row(label string, value func(buildResult) float64, format func(float64) string, ratio bool) {
	cells := []string{label}
	var vals []float64
	for _, b := range t.builds {
		v := value(b)
		vals = append(vals, v)
		if math.IsNaN(v) {
			cells = append(cells, "–")
		} else {
			cells = append(cells, format(v))
		}
	}
	if bi, ci, ok := t.compared(); ok {
		switch {
		case !ratio || math.IsNaN(vals[bi]) || math.IsNaN(vals[ci]) || vals[bi] == 0:
			cells = append(cells, "")
		default:
			cells = append(cells, fmt.Sprintf("%.2f×", vals[ci]/vals[bi]))
		}
	}
	t.rows = append(t.rows, cells)
}

// text adds a row of preformatted cells.
func (t *table) text(label string, cell func(buildResult) string) {
	cells := []string{label}
	for _, b := range t.builds {
		cells = append(cells, cell(b))
	}
	if _, _, ok := t.compared(); ok {
		cells = append(cells, "")
	}
	t.rows = append(t.rows, cells)
}

func (t *table) write(w io.Writer) {
	header := []string{"measure"}
	for _, b := range t.builds {
		header = append(header, fmt.Sprintf("%s (`%s`)", b.Build.Name, b.Build.Rev))
	}
	if _, _, ok := t.compared(); ok {
		header = append(header, "current ÷ baseline")
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
}

func num(prec int) func(float64) string {
	return func(v float64) string { return fmt.Sprintf("%.*f", prec, v) }
}

func mib(v float64) string { return fmt.Sprintf("%.0f MiB", v/(1<<20)) }

func kib(v float64) string { return fmt.Sprintf("%.0f KiB", v/1024) }

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func lat(l latencies) string {
	if l.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%s / %s / %s ms", ms(l.P50), ms(l.P99), ms(l.Max))
}

// workload finds the build's result for a workload name.
func workload(b buildResult, name string) (workloadResult, bool) {
	for _, w := range b.all() {
		if w.Name == name && !w.Failed && w.Commands > 0 && w.Elapsed > 0 {
			return w, true
		}
	}
	return workloadResult{}, false
}

// wl turns a per-workload figure into a per-build value (NaN when not measured).
func wl(name string, f func(workloadResult, buildResult) float64) func(buildResult) float64 {
	return func(b buildResult) float64 {
		w, ok := workload(b, name)
		if !ok {
			return math.NaN()
		}
		return f(w, b)
	}
}

func wlText(name string, f func(workloadResult) string) func(buildResult) string {
	return func(b buildResult) string {
		w, ok := workload(b, name)
		if !ok {
			return "–"
		}
		return f(w)
	}
}

// costPerCommand is writes to baton's kinds plus Events, per command.
func costPerCommand(w workloadResult) float64 {
	return w.writesPerCommand() + w.perCommand("events")
}

// writeReport prints the summary table and the request breakdown.
func writeReport(w io.Writer, s settings, results []buildResult) {
	t := &table{builds: results}
	t.row("ceiling: status merge patches/s on OperatorCommands, 1 worker", func(b buildResult) float64 { return nanIfZero(b.Ceiling.One) }, num(0), true)
	t.row("ceiling: the same, 8 workers", func(b buildResult) float64 { return nanIfZero(b.Ceiling.Eight) }, num(0), true)
	t.row("ceiling (8 workers): API server's mean time to serve a patch, ms", func(b buildResult) float64 { return msOf(b.Ceiling.WriteTime) }, num(1), true)
	t.text("ceiling (8 workers): "+cpuLabel, func(b buildResult) string { return b.Ceiling.CPU.String() })
	t.row("ceiling (8 workers): API server CPU per write served, ms", func(b buildResult) float64 {
		return msOf(b.Ceiling.CPU.perWrite(roleAPIServer, b.Ceiling.ServerWrites))
	}, num(2), true)
	if len(results) > 0 {
		for _, w := range results[0].Workloads {
			workloadRows(t, w.Name, w.Shape, w.External)
		}
		for i, c := range results[0].Chains {
			name := c.Name
			t.row(fmt.Sprintf("%s: time per step, ms", name), wl(name, func(w workloadResult, _ buildResult) float64 {
				return float64(stepTime(w)) / float64(time.Millisecond)
			}), num(1), true)
			if i > 0 {
				first := results[0].Chains[0].Name
				t.row(fmt.Sprintf("%s: time per step ÷ %s", name, first), func(b buildResult) float64 {
					w, ok1 := workload(b, name)
					w0, ok2 := workload(b, first)
					if !ok1 || !ok2 || stepTime(w0) == 0 {
						return math.NaN()
					}
					return float64(stepTime(w)) / float64(stepTime(w0))
				}, num(2), true)
			}
			t.text(fmt.Sprintf("%s: gate latency p50 / p99 / max (unloaded)", name), wlText(name, func(w workloadResult) string { return lat(w.Gate) }))
		}
		if results[0].Big != nil {
			name := results[0].Big.Name
			t.row(fmt.Sprintf("%s (%s): seconds to finish", name, s.BigSeq), wl(name, func(w workloadResult, _ buildResult) float64 { return w.Elapsed.Seconds() }), num(1), true)
		}
	}
	t.row("largest CommandSequence seen, JSON", func(b buildResult) float64 { return nanIfZero(float64(b.largestSequence())) }, kib, true)
	t.row("manager RSS, idle", func(b buildResult) float64 { return nanIfZero(b.Idle.RSS) }, mib, true)
	t.row("manager Go heap in use, idle", func(b buildResult) float64 { return nanIfZero(b.Idle.Heap) }, mib, true)
	t.text("commands stored for the next two rows", func(b buildResult) string { return fmt.Sprintf("%d", b.StoredCount) })
	t.row("manager RSS, commands stored", func(b buildResult) float64 { return nanIfZero(b.Stored.RSS) }, mib, true)
	t.row("manager Go heap in use, commands stored", func(b buildResult) float64 { return nanIfZero(b.Stored.Heap) }, mib, true)
	t.row("manager RSS, peak during the run", func(b buildResult) float64 { return nanIfZero(b.PeakRSS) }, mib, true)
	t.row("time to measure this build, s", func(b buildResult) float64 { return b.Took.Seconds() }, num(0), false)
	t.write(w)

	fmt.Fprintf(w, "\nThe manager's requests per command at the API server, by kind and verb (bench's own creates and executor patches subtracted; WATCH not shown):\n\n")
	rt := &table{builds: results}
	if len(results) > 0 {
		for _, wr := range results[0].all() {
			name := wr.Name
			for _, k := range unionKeys(results, name) {
				rt.row(fmt.Sprintf("%s: %s", name, k), wl(name, func(w workloadResult, _ buildResult) float64 {
					return w.Requests[k] / float64(w.Commands)
				}), num(2), true)
				if anyConflicts(results, name, k) {
					rt.row(fmt.Sprintf("%s: %s, of them answered 409 Conflict", name, k), wl(name, func(w workloadResult, _ buildResult) float64 {
						return w.Conflicts[k] / float64(w.Commands)
					}), num(2), true)
				}
			}
		}
	}
	rt.write(w)
	fmt.Fprintf(w, "\nGoals (DESIGN 5b, issue 19), judged on the current build:\n\n")
	writeGoals(w, results)
	writeNotes(w, results)
}

// writeNotes says what the table does not: the peer's terms, restarts, failures.
func writeNotes(w io.Writer, results []buildResult) {
	for _, r := range results {
		if r.Build.Name == peerTekton {
			fmt.Fprintf(w, "\n- %s: Tekton Pipelines' controller %s, built from the module proxy (hack/tekton.sh), on a control plane of its own "+
				"with its CRDs (conversion None) and config/ ConfigMaps, client QPS %d and burst %d (its main doubles both). "+
				"A command is one custom-task step (a CustomRun), a sequence one PipelineRun of chained steps; "+
				"the manager's rows are its controller's, its kinds PipelineRuns, CustomRuns and TaskRuns; "+
				"the bench's PipelineRun creates and its custom-task controller's one status patch a step are subtracted; "+
				"a gate opens when the step's CustomRun is seen created. The ceiling is measured the same way, on OperatorCommands "+
				"(baton's CRDs are installed beside Tekton's for it), before the controller starts.\n",
				r.Build.Name, r.Build.Rev, tektonQPS, tektonBurst)
		}
		for _, name := range r.Restarts {
			fmt.Fprintf(w, "\n- %s: restarted after %s failed (a timed-out workload leaves it busy); "+
				"what follows ran on a fresh process, same control plane, the failed workload's objects deleted.\n", r.Build.Name, name)
		}
	}
	for _, r := range results {
		for _, err := range r.Errors {
			fmt.Fprintf(w, "\n**%s: %v**\n", r.Build.Name, err)
		}
	}
}

func workloadRows(t *table, name string, sh shape, external bool) {
	t.row(fmt.Sprintf("%s (%s): commands/s", name, sh), wl(name, func(w workloadResult, _ buildResult) float64 { return w.PerSec }), num(1), true)
	t.row(fmt.Sprintf("%s: commands/s ÷ ceiling (8 workers)", name), wl(name, func(w workloadResult, b buildResult) float64 {
		return w.PerSec / b.Ceiling.Eight
	}), num(3), true)
	t.row(fmt.Sprintf("%s: writes per command to OperatorCommands + CommandSequences", name), wl(name, func(w workloadResult, _ buildResult) float64 {
		return w.writesPerCommand()
	}), num(2), true)
	t.row(fmt.Sprintf("%s: Events per command", name), wl(name, func(w workloadResult, _ buildResult) float64 { return w.perCommand("events") }), num(2), true)
	t.row(fmt.Sprintf("%s: API-bound commands/s = ceiling (8) ÷ (writes + Events per command)", name), wl(name, func(w workloadResult, b buildResult) float64 {
		return b.Ceiling.Eight / costPerCommand(w)
	}), num(0), true)
	t.row(fmt.Sprintf("%s: ratio = commands/s ÷ API-bound commands/s", name), wl(name, func(w workloadResult, b buildResult) float64 {
		return w.PerSec / (b.Ceiling.Eight / costPerCommand(w))
	}), num(2), true)
	what := "claimed"
	if external {
		what = "gate-labelled"
	}
	t.text(fmt.Sprintf("%s: gate latency p50 / p99 / max, completed → %s (loaded)", name, what), wlText(name, func(w workloadResult) string {
		if w.Missing > 0 {
			return fmt.Sprintf("%s (%d unseen)", lat(w.Gate), w.Missing)
		}
		return lat(w.Gate)
	}))
	t.text(fmt.Sprintf("%s: the same, gates opened after the last create", name), wlText(name, func(w workloadResult) string { return lat(w.GateAfter) }))
	t.row(fmt.Sprintf("%s: creating the commands, s", name), wl(name, func(w workloadResult, _ buildResult) float64 { return w.Creating.Seconds() }), num(1), true)
	t.text(fmt.Sprintf("%s: sequence duration p50 / p99 / max, first claim or gate → last completion", name), wlText(name, func(w workloadResult) string { return lat(w.Durations) }))
	t.row(fmt.Sprintf("%s: tail, last command completed → manager quiet, s", name), wl(name, func(w workloadResult, _ buildResult) float64 { return w.Tail.Seconds() }), num(1), true)
	t.text(fmt.Sprintf("%s: the manager's mean wait in its workqueue / mean reconcile, ms; reconciles per command", name), wlText(name, func(w workloadResult) string {
		if w.Queue.Works == 0 {
			return "–"
		}
		return fmt.Sprintf("%s / %s ms; %.1f", ms(w.Queue.meanWait()), ms(w.Queue.meanWork()), w.Queue.Works/float64(w.Commands))
	}))
	t.row(fmt.Sprintf("%s: API server's mean time to serve a write to baton's kinds (every client's), ms", name), wl(name, func(w workloadResult, _ buildResult) float64 {
		return msOf(w.WriteTime)
	}), num(1), true)
	t.row(fmt.Sprintf("%s: writes to baton's kinds answered 409 Conflict, per command", name), wl(name, func(w workloadResult, _ buildResult) float64 {
		return w.Conflicts.writes(ourKinds...) / float64(w.Commands)
	}), num(2), true)
	t.text(fmt.Sprintf("%s: %s", name, cpuLabel), wlText(name, func(w workloadResult) string { return w.CPU.String() }))
	t.row(fmt.Sprintf("%s: writes the API server served per command (every client's: the bench's creates and executor's patches, Events)", name), wl(name, func(w workloadResult, _ buildResult) float64 {
		return w.ServerWrites / float64(w.Commands)
	}), num(2), true)
	t.row(fmt.Sprintf("%s: API server CPU per write served (every client's, creates and Events included), ms", name), wl(name, func(w workloadResult, _ buildResult) float64 {
		return msOf(w.CPU.perWrite(roleAPIServer, w.ServerWrites))
	}), num(2), true)
}

// cpuLabel names the columns of cpuShare.String.
var cpuLabel = fmt.Sprintf("CPU busy, %% of the machine's %d cores: %s / rest of the machine", runtime.NumCPU(), strings.Join(roleNames[:], " / "))

// msOf is d in milliseconds, NaN for zero (not measured).
func msOf(d time.Duration) float64 { return nanIfZero(float64(d) / float64(time.Millisecond)) }

// unionKeys lists the request kinds any build made in a workload (reads and writes to
// baton's kinds and Events; WATCH is long-running and left out).
func unionKeys(results []buildResult, name string) []reqKey {
	seen := map[reqKey]bool{}
	all := requestCounts{}
	for _, b := range results {
		if w, ok := workload(b, name); ok {
			for k := range w.Requests {
				if !seen[k] && k.Verb != "WATCH" {
					seen[k] = true
					all[k] = 1
				}
			}
		}
	}
	return all.sortedKeys(slices.Concat(ourKinds, tektonKinds, []string{"events"})...)
}

// anyConflicts says whether any build's requests k in workload name were answered 409.
func anyConflicts(results []buildResult, name string, k reqKey) bool {
	for _, b := range results {
		if w, ok := workload(b, name); ok && w.Conflicts[k] > 0 {
			return true
		}
	}
	return false
}

func nanIfZero(v float64) float64 {
	if v == 0 {
		return math.NaN()
	}
	return v
}
