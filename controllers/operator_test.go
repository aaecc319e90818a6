package controllers_test

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	upstream "github.com/kubescape/backend/pkg/command/types/v1alpha1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// operator behaves like the Kubescape operator's command handling, built on its own Go
// type: it lists then watches commands matching a label selector, keeps only the last
// event per object after a quiet period, acts only if that event is ADDED (a listed object
// counts as ADDED; completed ones are skipped), and reports once — started and completed
// together, executer "operator" — with a JSON merge patch on the status subresource.
type operator struct {
	quiet time.Duration

	mu      sync.Mutex
	acted   []string // names, in the order the operator acted on them
	dropped []string // names whose last event was not ADDED
	pending map[string]*debounced
}

type debounced struct {
	last  watch.EventType
	obj   *unstructured.Unstructured
	timer *time.Timer
}

func startOperator(ns, selector string, quiet time.Duration) *operator {
	dyn, err := dynamic.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	res := dyn.Resource(upstream.SchemaGroupVersionResource).Namespace(ns)
	op := &operator{quiet: quiet, pending: map[string]*debounced{}}
	ctx, cancel := context.WithCancel(suiteCt)
	DeferCleanup(cancel)

	list, err := res.List(ctx, metav1.ListOptions{LabelSelector: selector})
	Expect(err).NotTo(HaveOccurred())
	for i := range list.Items {
		op.observe(ctx, res, watch.Added, &list.Items[i])
	}
	w, err := res.Watch(ctx, metav1.ListOptions{LabelSelector: selector, ResourceVersion: list.GetResourceVersion()})
	Expect(err).NotTo(HaveOccurred())
	go func() {
		defer GinkgoRecover()
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.ResultChan():
				if !ok {
					return
				}
				if obj, isObj := e.Object.(*unstructured.Unstructured); isObj {
					op.observe(ctx, res, e.Type, obj)
				}
			}
		}
	}()
	return op
}

func (op *operator) observe(ctx context.Context, res dynamic.ResourceInterface, t watch.EventType, obj *unstructured.Unstructured) {
	op.mu.Lock()
	defer op.mu.Unlock()
	name := obj.GetName()
	d, ok := op.pending[name]
	if !ok {
		d = &debounced{}
		op.pending[name] = d
		d.timer = time.AfterFunc(op.quiet, func() { op.fire(ctx, res, name) })
	} else {
		d.timer.Reset(op.quiet)
	}
	d.last, d.obj = t, obj
}

func (op *operator) fire(ctx context.Context, res dynamic.ResourceInterface, name string) {
	op.mu.Lock()
	d, ok := op.pending[name]
	delete(op.pending, name)
	op.mu.Unlock()
	if !ok {
		return // a timer reset as it fired fires twice: the first firing took the event
	}

	var cmd upstream.OperatorCommand
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(d.obj.Object, &cmd); err != nil {
		op.record(&op.dropped, name)
		return
	}
	if cmd.Status.Completed {
		return
	}
	if d.last != watch.Added {
		op.record(&op.dropped, name) // a command the real operator would never run
		return
	}
	now := metav1.Now()
	status := upstream.OperatorCommandStatus{
		Started: true, StartedAt: &now, Completed: true, CompletedAt: &now,
		Executer: "operator", Payload: []byte(`{"scanned":"` + name + `"}`),
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	Expect(err).NotTo(HaveOccurred())
	if _, err := res.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err == nil {
		op.record(&op.acted, name)
	}
}

func (op *operator) record(list *[]string, name string) {
	op.mu.Lock()
	defer op.mu.Unlock()
	*list = append(*list, name)
}

func (op *operator) actedOn() []string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]string(nil), op.acted...)
}

func (op *operator) droppedOnes() []string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]string(nil), op.dropped...)
}
