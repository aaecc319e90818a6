package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

const (
	// inProcessType is the built-in noop step.
	inProcessType = "noop"
	// externalType has no in-process handler: baton gates it for an external executor.
	externalType = "BenchExternal"
	// commandTTL is long enough that nothing expires during a run.
	commandTTL = 30 * time.Minute
)

// member builds one sequence member as a backend would send it: the sequence label,
// an int64 TTL, index and count.
func member(ns, seq string, i, index, count int, commandType string, args batonv1.Args) *batonv1.OperatorCommand {
	name := fmt.Sprintf("%s-%d", seq, i)
	return &batonv1.OperatorCommand{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{batonv1.LabelSequence: seq}},
		Spec: batonv1.OperatorCommandSpec{
			GUID: name, CommandType: commandType, TTL: batonv1.Duration(commandTTL),
			CommandIndex: &index, CommandCount: &count, Args: args,
		},
	}
}

// sequences builds n sequences of the given shape: steps members in batches of width,
// batch k holding members k*width … (k+1)*width-1 with commandIndex k.
func sequences(ns, prefix string, sh shape, commandType string) [][]*batonv1.OperatorCommand {
	out := make([][]*batonv1.OperatorCommand, sh.Sequences)
	for s := range out {
		key := fmt.Sprintf("%s-%d", prefix, s)
		for i := range sh.Steps {
			out[s] = append(out[s], member(ns, key, i, i/max(sh.Width, 1), sh.Steps, commandType, nil))
		}
	}
	return out
}

// createAll creates the commands with workers clients at once, in order (sequence by
// sequence, index by index, as far as parallel workers keep an order), and returns how
// many create requests it sent.
func createAll(ctx context.Context, c client.Client, workers int, seqs [][]*batonv1.OperatorCommand) (int64, error) {
	var objs []client.Object
	for _, seq := range seqs {
		for _, cmd := range seq {
			objs = append(objs, cmd)
		}
	}
	return createObjects(ctx, c, workers, objs)
}

// createObjects creates objs with workers clients at once, in order as far as parallel
// workers keep one, and returns how many create requests it sent.
func createObjects(ctx context.Context, c client.Client, workers int, objs []client.Object) (int64, error) {
	jobs := make(chan client.Object)
	var sent atomic.Int64
	var firstErr error
	var once sync.Once
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for obj := range jobs {
				sent.Add(1)
				if err := c.Create(ctx, obj); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("creating %s/%s: %w", obj.GetNamespace(), obj.GetName(), err); cancel() })
				}
			}
		}()
	}
feed:
	for _, obj := range objs {
		select {
		case jobs <- obj:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return sent.Load(), firstErr
}

// ensureNamespace creates ns (envtest has no namespace controller: namespaces are never
// deleted, so every workload gets a new one).
func ensureNamespace(ctx context.Context, c client.Client, ns string) error {
	err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	return nil
}

// deleteWorkload deletes the OperatorCommands and CommandSequences in ns (neither has a
// finalizer: they are gone when the calls return).
func deleteWorkload(ctx context.Context, c client.Client, ns string) error {
	seqs := &unstructured.Unstructured{}
	seqs.SetGroupVersionKind(batonv1.GroupVersion.WithKind("CommandSequence"))
	for _, obj := range []client.Object{&batonv1.OperatorCommand{}, seqs} {
		if err := c.DeleteAllOf(ctx, obj, client.InNamespace(ns)); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting %s's %T: %w", ns, obj, err)
		}
	}
	return nil
}

// countCommands counts the OperatorCommands stored in the cluster.
func countCommands(ctx context.Context, c client.Client) (int, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(batonv1.GroupVersion.WithKind("OperatorCommandList"))
	if err := c.List(ctx, list); err != nil {
		return 0, fmt.Errorf("counting commands: %w", err)
	}
	return len(list.Items), nil
}

// sanitize makes a DNS label from s.
func sanitize(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "-", " ", "-", ".", "-").Replace(s))
}
