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
	pool[*batonv1.OperatorCommand]
}

// pool is workers taking items from a channel until ctx ends; it keeps the first error.
type pool[T any] struct {
	mu  sync.Mutex
	err error
	wg  sync.WaitGroup
}

// serve starts workers that call do with each item of items until ctx ends; an error
// (unless ctx has ended) is kept.
func (p *pool[T]) serve(ctx context.Context, items <-chan T, workers int, do func(T) error) {
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case item := <-items:
					if err := do(item); err != nil && ctx.Err() == nil {
						p.fail(err)
					}
				}
			}
		}()
	}
}

func (p *pool[T]) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

// wait returns once the workers have stopped (cancel their ctx first), with the first error.
func (p *pool[T]) wait() error {
	p.wg.Wait()
	return p.failed()
}

// failed is the first error so far.
func (p *pool[T]) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
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
	e.serve(ctx, added, workers, func(cmd *batonv1.OperatorCommand) error { return e.report(ctx, c, cmd) })
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
