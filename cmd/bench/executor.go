package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// executor simulates an external executor the way the Kubescape operator behaves towards
// baton: it watches with the selector kubescape.io/gate=open, acts on ADDED only (a
// selector watch delivers ADDED when an object starts to match), and reports with one
// status merge patch — started, completed, completedAt, payload — with no cooldown.
type executor struct {
	patches atomic.Int64 // patch requests sent
	mu      sync.Mutex
	err     error
	wg      sync.WaitGroup
}

var executorPayload = base64.StdEncoding.EncodeToString([]byte(`{"executor":"bench"}`))

// startExecutor watches namespace until ctx ends; the watch is open when it returns.
func startExecutor(ctx context.Context, log logr.Logger, c client.WithWatch, namespace string, workers int) (*executor, error) {
	e := &executor{}
	added := make(chan *batonv1.OperatorCommand, 1<<16)
	onEvent := func(ev watch.Event) {
		if cmd, ok := ev.Object.(*batonv1.OperatorCommand); ok && ev.Type == watch.Added && !cmd.Status.Completed {
			select {
			case added <- cmd:
			case <-ctx.Done():
			}
		}
	}
	opts := []client.ListOption{client.InNamespace(namespace), client.MatchingLabels{batonv1.LabelGate: batonv1.GateOpen}}
	newList := func() client.ObjectList { return &batonv1.OperatorCommandList{} }
	if err := follow(ctx, log, c, newList, opts, onEvent, e.fail); err != nil {
		return nil, fmt.Errorf("the executor watching %s: %w", namespace, err)
	}
	for range workers {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case cmd := <-added:
					if err := e.report(ctx, c, cmd); err != nil && ctx.Err() == nil {
						e.fail(err)
					}
				}
			}
		}()
	}
	return e, nil
}

func (e *executor) report(ctx context.Context, c client.Client, cmd *batonv1.OperatorCommand) error {
	now := metav1.NewTime(time.Now())
	patch, err := json.Marshal(map[string]any{"status": map[string]any{
		"started": true, "completed": true, "completedAt": now, "payload": executorPayload,
	}})
	if err != nil {
		return err
	}
	e.patches.Add(1)
	if err := c.Status().Patch(ctx, cmd, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("the executor reporting %s: %w", cmd.Name, err)
	}
	return nil
}

func (e *executor) fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err == nil {
		e.err = err
	}
}

// wait returns once the executor has stopped (cancel its ctx first), with its first error.
func (e *executor) wait() error {
	e.wg.Wait()
	return e.failed()
}

// failed is the executor's first error so far.
func (e *executor) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}
