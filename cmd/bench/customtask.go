package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The custom task the peer's steps run: Tekton hands a pipeline task whose taskRef names
// an apiVersion and kind it does not know to a custom-task controller as a CustomRun.
const (
	customTaskAPIVersion = "example.dev/v1alpha1"
	customTaskKind       = "Noop"
)

var (
	customRunListGVK   = schema.GroupVersionKind{Group: "tekton.dev", Version: "v1beta1", Kind: "CustomRunList"}
	pipelineRunGVK     = schema.GroupVersionKind{Group: "tekton.dev", Version: "v1", Kind: "PipelineRun"}
	pipelineRunListGVK = schema.GroupVersionKind{Group: "tekton.dev", Version: "v1", Kind: "PipelineRunList"}
)

// customTasks is the peer's custom-task controller, the counterpart of baton's in-process
// noop handler: it watches one namespace's CustomRuns and marks each of its kind
// Succeeded with one status merge patch (the Succeeded condition, startTime and
// completionTime), acting on ADDED only, as a custom-task controller with nothing to do
// would. Its patches are counted and subtracted from the controller's, like the simulated
// executor's.
type customTasks struct {
	patches atomic.Int64
	pool[*unstructured.Unstructured]
}

// startCustomTasks watches namespace until ctx ends; the watch is open when it returns.
func startCustomTasks(ctx context.Context, log logr.Logger, c client.WithWatch, namespace string, workers int) (*customTasks, error) {
	t := &customTasks{}
	added := make(chan *unstructured.Unstructured, 1<<16)
	onEvent := func(ev watch.Event) {
		u, ok := ev.Object.(*unstructured.Unstructured)
		if !ok || ev.Type != watch.Added || !isOurCustomRun(u) || runCondition(u) != "" {
			return
		}
		select {
		case added <- u:
		case <-ctx.Done():
		}
	}
	if err := follow(ctx, log, c, newCustomRunList, []client.ListOption{client.InNamespace(namespace)}, onEvent, t.fail); err != nil {
		return nil, fmt.Errorf("the custom-task controller watching %s: %w", namespace, err)
	}
	t.serve(ctx, added, workers, func(run *unstructured.Unstructured) error { return t.succeed(ctx, c, run) })
	return t, nil
}

func newCustomRunList() client.ObjectList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(customRunListGVK)
	return l
}

func newPipelineRunList() client.ObjectList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(pipelineRunListGVK)
	return l
}

// isOurCustomRun says whether a CustomRun references the bench's custom task.
func isOurCustomRun(u *unstructured.Unstructured) bool {
	apiVersion, _, _ := unstructured.NestedString(u.Object, "spec", "customRef", "apiVersion")
	kind, _, _ := unstructured.NestedString(u.Object, "spec", "customRef", "kind")
	return apiVersion == customTaskAPIVersion && kind == customTaskKind
}

// runCondition is the status of a Tekton object's Succeeded condition: "True", "False",
// "Unknown", or "" when it has none.
func runCondition(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Succeeded" {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

// runMessage is the message of a Tekton object's Succeeded condition.
func runMessage(u *unstructured.Unstructured) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == "Succeeded" {
			reason, _ := m["reason"].(string)
			msg, _ := m["message"].(string)
			return reason + ": " + msg
		}
	}
	return ""
}

// succeedPatch is the one status patch that finishes a CustomRun.
func succeedPatch(now time.Time) ([]byte, error) {
	t := metav1.NewTime(now)
	return json.Marshal(map[string]any{"status": map[string]any{
		"conditions": []map[string]any{{
			"type": "Succeeded", "status": "True", "reason": "Succeeded", "message": "bench noop", "lastTransitionTime": t,
		}},
		"startTime":      t,
		"completionTime": t,
	}})
}

func (t *customTasks) succeed(ctx context.Context, c client.Client, run *unstructured.Unstructured) error {
	patch, err := succeedPatch(time.Now())
	if err != nil {
		return err
	}
	t.patches.Add(1)
	if err := c.Status().Patch(ctx, run, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("the custom-task controller finishing %s: %w", run.GetName(), err)
	}
	return nil
}
