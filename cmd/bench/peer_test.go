package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

func TestTektonCRDsAndConfigMaps(t *testing.T) {
	dir := t.TempDir()
	crds := filepath.Join(dir, "300-crds")
	if err := os.Mkdir(crds, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(crds, "300-customrun.yaml"), `# Copyright
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: customruns.tekton.dev
spec:
  group: tekton.dev
  names: {kind: CustomRun, plural: customruns}
  scope: Namespaced
  versions: [{name: v1beta1, served: true, storage: true}]
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: ["v1beta1"]
      clientConfig:
        service: {name: tekton-pipelines-webhook, namespace: tekton-pipelines}
`)
	write(filepath.Join(dir, "config-defaults.yaml"), `apiVersion: v1
kind: ConfigMap
metadata:
  name: config-defaults
  namespace: tekton-pipelines
data:
  default-timeout-minutes: "60"
`)
	write(filepath.Join(dir, "controller.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata: {name: tekton-pipelines-controller, namespace: tekton-pipelines}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: feature-flags}
---
`)
	gotCRDs, err := tektonCRDs(crds)
	if err != nil {
		t.Fatal(err)
	}
	if len(gotCRDs) != 1 || gotCRDs[0].Name != "customruns.tekton.dev" {
		t.Fatalf("CRDs %v, want customruns.tekton.dev", gotCRDs)
	}
	if diff := cmp.Diff(&apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.NoneConverter}, gotCRDs[0].Spec.Conversion); diff != "" {
		t.Errorf("conversion (-want +got)\n%s", diff)
	}
	maps, err := tektonConfigMaps(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range maps {
		names = append(names, m.GetNamespace()+"/"+m.GetName())
	}
	// The Deployment is left out; a ConfigMap without a namespace goes to Tekton's.
	if diff := cmp.Diff([]string{"tekton-pipelines/config-defaults", "tekton-pipelines/feature-flags"}, names); diff != "" {
		t.Errorf("ConfigMaps (-want +got)\n%s", diff)
	}
	if _, err := tektonCRDs(dir); err == nil {
		t.Error("a directory without CRDs was accepted")
	}
}

func TestPipelineRuns(t *testing.T) {
	runs := pipelineRuns("ns", "p", shape{Sequences: 2, Steps: 3, Width: 1})
	if len(runs) != 2 {
		t.Fatalf("%d PipelineRuns, want 2", len(runs))
	}
	u := runs[1].(*unstructured.Unstructured)
	if u.GetName() != "p-1" || u.GetNamespace() != "ns" || u.GetAPIVersion() != "tekton.dev/v1" || u.GetKind() != "PipelineRun" {
		t.Errorf("PipelineRun %s/%s %s %s", u.GetNamespace(), u.GetName(), u.GetAPIVersion(), u.GetKind())
	}
	tasks, _, _ := unstructured.NestedSlice(u.Object, "spec", "pipelineSpec", "tasks")
	var got []string
	for _, task := range tasks {
		m := task.(map[string]any)
		ref := m["taskRef"].(map[string]any)
		got = append(got, fmt.Sprint(m["name"], " ", ref["apiVersion"], " ", ref["kind"], " after ", m["runAfter"]))
	}
	want := []string{"step-0 example.dev/v1alpha1 Noop after <nil>", "step-1 example.dev/v1alpha1 Noop after [step-0]", "step-2 example.dev/v1alpha1 Noop after [step-1]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tasks (-want +got)\n%s", diff)
	}
	for task, want := range map[string]int{"step-0": 0, "step-12": 12, "build": -1, "step-x": -1} {
		if got := stepIndex(task); got != want {
			t.Errorf("stepIndex(%q) = %d, want %d", task, got, want)
		}
	}
}

// customRun builds a CustomRun as Tekton creates one for step index of run, with the
// Succeeded condition cond ("" for none).
func customRun(run string, index int, ref, cond string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{"customRef": map[string]any{"apiVersion": customTaskAPIVersion, "kind": ref}},
	}}
	u.SetName(run + "-" + stepName(index))
	u.SetLabels(map[string]string{labelPipelineRun: run, labelPipelineTask: stepName(index)})
	if cond != "" {
		u.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Succeeded", "status": cond, "reason": "R", "message": "m"}}}
	}
	return u
}

func TestCustomRunsAndTheSucceedPatch(t *testing.T) {
	if !isOurCustomRun(customRun("p", 0, customTaskKind, "")) || isOurCustomRun(customRun("p", 0, "Other", "")) {
		t.Error("isOurCustomRun does not tell the bench's kind from another")
	}
	for cond, want := range map[string]string{"": "", "Unknown": "Unknown", "True": "True", "False": "False"} {
		if got := runCondition(customRun("p", 0, customTaskKind, cond)); got != want {
			t.Errorf("runCondition with %q = %q", cond, got)
		}
	}
	// The patch, applied to a CustomRun, makes it Succeeded, with both times.
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	patch, err := succeedPatch(now)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(patch, &body); err != nil {
		t.Fatal(err)
	}
	done := customRun("p", 0, customTaskKind, "")
	done.Object["status"] = body["status"]
	if got := runCondition(done); got != "True" {
		t.Errorf("after the patch the Succeeded condition is %q, want True", got)
	}
	for _, field := range []string{"startTime", "completionTime"} {
		if v, _, _ := unstructured.NestedString(done.Object, "status", field); v != "2026-01-02T03:04:05Z" {
			t.Errorf("status.%s = %q", field, v)
		}
	}
}

func TestRunObserver(t *testing.T) {
	o := &runObserver{runs: map[string]*seen{}, ended: map[string]bool{}}
	o.onCustomRun(watch.Event{Type: watch.Added, Object: customRun("p", 0, customTaskKind, "")})
	o.onCustomRun(watch.Event{Type: watch.Modified, Object: customRun("p", 0, customTaskKind, "True")})
	o.onCustomRun(watch.Event{Type: watch.Added, Object: customRun("p", 1, customTaskKind, "")})
	o.onCustomRun(watch.Event{Type: watch.Modified, Object: customRun("p", 1, customTaskKind, "True")})
	o.onCustomRun(watch.Event{Type: watch.Modified, Object: customRun("p", 1, customTaskKind, "True")}) // seen again: counted once
	pr := func(name, cond string) *unstructured.Unstructured {
		u := customRun(name, 0, customTaskKind, cond)
		u.SetName(name)
		return u
	}
	o.onPipelineRun(watch.Event{Type: watch.Modified, Object: pr("p", "Unknown")})
	if c, e, err := o.progress(); c != 2 || e != 0 || err != nil {
		t.Fatalf("progress = %d, %d, %v; want 2 steps completed, no run ended", c, e, err)
	}
	o.onPipelineRun(watch.Event{Type: watch.Modified, Object: pr("p", "True")})
	o.onPipelineRun(watch.Event{Type: watch.Modified, Object: pr("q", "False")})
	c, e, err := o.progress()
	if c != 2 || e != 2 || err == nil || !strings.Contains(err.Error(), "PipelineRun q failed: R: m") {
		t.Fatalf("progress = %d, %d, %v; want 2, 2 and q's failure", c, e, err)
	}
	// Step 1 opened (its CustomRun seen) after step 0 completed: one gate.
	seen := o.snapshot()
	if s := seen["p-step-1"]; s.Seq != "p" || s.Index != 1 || s.Started.IsZero() || s.Completed.IsZero() {
		t.Errorf("step 1 seen as %+v", s)
	}
	if gates, missing := gateLatencies(seen, false); len(gates) != 1 || missing != 0 {
		t.Errorf("%d gates, %d missing; want 1, 0", len(gates), missing)
	}
}

func TestGoals(t *testing.T) {
	a := func(cost, served, perSec float64, p99 time.Duration) workloadResult {
		return workloadResult{Name: workloadA, Commands: 100, Elapsed: time.Second, PerSec: perSec, Kinds: ourKinds,
			Requests:     requestCounts{{Resource: "operatorcommands", Subresource: "status", Verb: "PATCH"}: cost * 100},
			ServerWrites: served * 100, Gate: latencies{N: 1, P99: p99}}
	}
	chain := func(n int, perStep time.Duration) workloadResult {
		return workloadResult{Name: fmt.Sprintf("chain %d", n), Shape: shape{Sequences: 1, Steps: n, Width: 1}, Commands: n,
			Elapsed: time.Second, Run: perStep * time.Duration(n), Kinds: ourKinds, Gate: latencies{N: 1, P99: 10 * time.Millisecond}}
	}
	results := []buildResult{
		{Build: build{Name: "baseline", Rev: "b"}, Ceiling: ceiling{Eight: 400}, Stored: memory{RSS: 100 << 20},
			Workloads: []workloadResult{a(3, 5, 60, 2*time.Second)}, Chains: []workloadResult{chain(10, time.Millisecond), chain(100, time.Millisecond)}},
		{Build: build{Name: "current", Rev: "c"}, Ceiling: ceiling{Eight: 400}, Stored: memory{RSS: 104 << 20},
			Workloads: []workloadResult{a(1.5, 3, 120, 500*time.Millisecond)}, Chains: []workloadResult{chain(10, time.Millisecond), chain(100, 2*time.Millisecond)}},
		{Build: build{Name: peerTekton, Rev: "v1.15.0"}, Ceiling: ceiling{Eight: 200}, Stored: memory{RSS: 90 << 20},
			Workloads: []workloadResult{func() workloadResult {
				w := a(0, 5.2, 20, 5*time.Second)
				w.Kinds, w.Requests = tektonKinds, requestCounts{{Resource: "customruns", Subresource: "status", Verb: "PATCH"}: 260}
				return w
			}()}},
	}
	var buf bytes.Buffer
	writeGoals(&buf, results)
	rows := map[string][]string{}
	for _, line := range strings.Split(buf.String(), "\n")[2:] {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) > 1 {
			rows[cells[0]] = cells[1:]
		}
	}
	for label, want := range map[string][]string{
		// target, baseline, current, tekton, verdict
		workloadA + ": writes + Events per command":                                {"≤ 2.0", "3.00", "1.50", "2.60", "met"},
		workloadA + ": commands/s ÷ ceiling (8 workers)":                           {"≥ 0.25", "0.150", "0.300", "0.100", "met"},
		workloadA + ": loaded gate p99, ms":                                        {"≤ 1000", "2000", "500", "5000", "met"},
		"chain 100: unloaded gate p99, ms":                                         {"≤ 25", "10.0", "10.0", "–", "met"},
		"C external: writes + Events per command (the executor's report excluded)": {"≤ 4.0", "–", "–", "–", "–"},
		"manager RSS, commands stored":                                             {"≤ baseline (+5 %)", "100 MiB", "104 MiB", "–", "met"},
		"chain 100: time per step ÷ chain 10":                                      {"≤ baseline (+5 %)", "1.00", "2.00", "–", "**missed**"},
	} {
		if diff := cmp.Diff(want, rows[label]); diff != "" {
			t.Errorf("%s (-want +got)\n%s\n%s", label, diff, buf.String())
		}
	}
	if _, ok := rows["chain 10: writes + Events per command"]; ok {
		t.Error("the long-chain goal applies to chain 10")
	}
	if got := rows["chain 100: writes + Events per command"]; len(got) == 0 || got[0] != "≤ 1.1" {
		t.Errorf("chain 100's cost goal: %v", got)
	}
	// Tekton's A figure is its own kinds' writes (2.60, no Events), not baton's kinds'.
	if got := rows[workloadA+": everything the API server served per command (every client's writes, creates and Events included)"]; len(got) < 4 || got[3] != "5.20" {
		t.Errorf("everything served: %v", got)
	}
	if v := goals(results)[0].value(results[2]); math.Abs(v-2.6) > 1e-9 {
		t.Errorf("tekton's writes + Events per step = %v, want 2.6 (its kinds, not baton's)", v)
	}
}

func TestTableColumns(t *testing.T) {
	results := []buildResult{
		{Build: build{Name: "current", Rev: "c"}, Idle: memory{RSS: 2 << 20}},
		{Build: build{Name: peerTekton, Rev: "v1.15.0"}, Idle: memory{RSS: 4 << 20}},
	}
	var buf bytes.Buffer
	tb := &table{builds: results}
	tb.row("RSS", func(b buildResult) float64 { return b.Idle.RSS }, mib, true)
	tb.write(&buf)
	if want := "| measure | current (`c`) | tekton (`v1.15.0`) |\n|---|---|---|\n| RSS | 2 MiB | 4 MiB |\n"; buf.String() != want {
		t.Errorf("without a baseline, no ratio column:\n%s", buf.String())
	}
	buf.Reset()
	tb = &table{builds: append([]buildResult{{Build: build{Name: "baseline", Rev: "b"}, Idle: memory{RSS: 1 << 20}}}, results...)}
	tb.row("RSS", func(b buildResult) float64 { return b.Idle.RSS }, mib, true)
	tb.write(&buf)
	if want := "| RSS | 1 MiB | 2 MiB | 4 MiB | 2.00× |\n"; !strings.HasSuffix(buf.String(), want) {
		t.Errorf("current ÷ baseline, the peer's column beside:\n%s", buf.String())
	}
}
