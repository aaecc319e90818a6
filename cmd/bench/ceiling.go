package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// ceiling is what the API server serves: status merge patches per second on
// OperatorCommands, by 1 and by 8 client workers without client-side rate limits; and,
// for 8 workers, how busy the machine was, the patches served and the mean time to
// serve one.
type ceiling struct {
	One, Eight   float64
	CPU          cpuShare
	ServerWrites float64
	WriteTime    time.Duration
}

const ceilingObjects = 64

// measureCeiling runs before the manager starts, on objects it deletes afterwards.
func measureCeiling(ctx context.Context, cp *controlPlane, d time.Duration) (ceiling, error) {
	const ns = "bench-ceiling"
	c := cp.client
	if err := ensureNamespace(ctx, c, ns); err != nil {
		return ceiling{}, err
	}
	var objs []*batonv1.OperatorCommand
	for i := range ceilingObjects {
		cmd := member(ns, "ceiling", i, 0, 1, inProcessType, nil)
		cmd.Labels, cmd.Spec.CommandIndex, cmd.Spec.CommandCount = nil, nil, nil
		objs = append(objs, cmd)
	}
	if _, err := createAll(ctx, c, 8, [][]*batonv1.OperatorCommand{objs}); err != nil {
		return ceiling{}, err
	}
	defer func() {
		_ = c.DeleteAllOf(context.Background(), &batonv1.OperatorCommand{}, client.InNamespace(ns))
	}()
	if _, err := patchRate(ctx, c, objs, 8, d/4); err != nil { // warm-up
		return ceiling{}, err
	}
	one, err := patchRate(ctx, c, objs, 1, d)
	if err != nil {
		return ceiling{}, err
	}
	before, err := cp.apiMetrics(ctx)
	if err != nil {
		return ceiling{}, err
	}
	cpuStart := readCPU(cp.pids)
	eight, err := patchRate(ctx, c, objs, 8, d)
	if err != nil {
		return ceiling{}, err
	}
	cpu := readCPU(cp.pids).since(cpuStart)
	after, err := cp.apiMetrics(ctx)
	if err != nil {
		return ceiling{}, err
	}
	diff, err := after.minus(before)
	if err != nil {
		return ceiling{}, err
	}
	return ceiling{One: one, Eight: eight, CPU: cpu, ServerWrites: diff.requests.writes(), WriteTime: diff.meanWriteLatency("operatorcommands")}, nil
}

// patchRate patches the objects' status for d with workers workers, each on its own
// objects in turn, and returns the patches per second served.
func patchRate(ctx context.Context, c client.Client, objs []*batonv1.OperatorCommand, workers int, d time.Duration) (float64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline); n++ {
				obj := objs[(w+n*workers)%len(objs)]
				patch := fmt.Appendf(nil, `{"status":{"message":"ceiling %d-%d"}}`, w, n)
				if err := c.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("patching %s: %w", obj.Name, err); cancel() })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds(), firstErr
}
