package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// storedArgs stands in for a real command's arguments: about 1 KiB of designators and
// parameters, so the cache holds objects of a realistic size.
var storedArgs = batonv1.Args{"designators": strings.Repeat("wlid://cluster-bench/namespace-default/deployment-x;", 20)}

// storedShape: sequences that stay Assembling (one member of each is never sent), so
// they are stored and watched but nothing runs; the manager holds them in its cache like
// any other command.
const storedSteps = 10

// fillStored tops the cluster up to target commands stored, in sequences that stay
// Assembling, and returns how many commands are stored.
func (b *bench) fillStored(ctx context.Context, target int) (int, error) {
	have, err := countCommands(ctx, b.cp.client)
	if err != nil {
		return 0, err
	}
	missing := target - have
	if missing <= 0 {
		return have, nil
	}
	const ns = "bench-stored"
	if err := ensureNamespace(ctx, b.cp.client, ns); err != nil {
		return 0, err
	}
	var seqs [][]*batonv1.OperatorCommand
	for s := 0; missing > 0; s++ {
		key := fmt.Sprintf("stored-%d", s)
		var seq []*batonv1.OperatorCommand
		for i := 0; i < storedSteps && missing > 0; i++ {
			seq = append(seq, member(ns, key, i, i, storedSteps+1, inProcessType, storedArgs))
			missing--
		}
		seqs = append(seqs, seq)
	}
	b.log.Info("storing commands", "adding", target-have, "stored", have)
	if _, err := createAll(ctx, b.cp.client, b.s.Workers, seqs); err != nil {
		return 0, err
	}
	return countCommands(ctx, b.cp.client)
}

// settledMemory waits for the manager to go quiet and returns the median of three
// samples a second apart.
func (b *bench) settledMemory(ctx context.Context) (memory, error) {
	if err := b.mgr.quiet(ctx, 2*time.Second, 5*time.Minute); err != nil {
		return memory{}, err
	}
	return medianMemory(ctx, func() (memory, error) { return b.mgr.memory(ctx) })
}

// medianMemory is the median by RSS of three samples a second apart.
func medianMemory(ctx context.Context, sample func() (memory, error)) (memory, error) {
	var samples []memory
	for i := range 3 {
		if i > 0 {
			select {
			case <-ctx.Done():
				return memory{}, ctx.Err()
			case <-time.After(time.Second):
			}
		}
		m, err := sample()
		if err != nil {
			return memory{}, err
		}
		samples = append(samples, m)
	}
	slices.SortFunc(samples, func(a, b memory) int { return int(a.RSS - b.RSS) })
	return samples[1], nil
}

// peakSampler records the manager's largest RSS until stopped.
type peakSampler struct {
	mu   sync.Mutex
	peak float64
	stop context.CancelFunc
	done chan struct{}
}

// samplePeak samples the process pid names at each tick (it changes when the process is
// restarted).
func samplePeak(ctx context.Context, pid func() int) *peakSampler {
	ctx, cancel := context.WithCancel(ctx)
	p := &peakSampler{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, err := vmRSS(pid()); err == nil {
				p.mu.Lock()
				p.peak = max(p.peak, rss)
				p.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) result() float64 {
	p.stop()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}
