package main

import (
	"slices"
	"time"
)

// gateSample is one gate's opening: when it was seen, and how long after it could open.
type gateSample struct {
	At    time.Time
	Delay time.Duration
}

// gateLatencies measures, for every member of every batch after the first, the time from
// the moment the last member of the previous batch was seen completed to the moment the
// member was seen claimed (in-process) or gate-labelled (external). missing counts
// members whose opening was never seen.
func gateLatencies(commands map[string]seen, external bool) (gates []gateSample, missing int) {
	type batch struct {
		done    time.Time // latest completion in the batch
		opened  []time.Time
		members int
	}
	bySeq := map[string]map[int]*batch{}
	for _, s := range commands {
		if s.Index < 0 {
			continue
		}
		if bySeq[s.Seq] == nil {
			bySeq[s.Seq] = map[int]*batch{}
		}
		b := bySeq[s.Seq][s.Index]
		if b == nil {
			b = &batch{}
			bySeq[s.Seq][s.Index] = b
		}
		b.members++
		if s.Completed.After(b.done) {
			b.done = s.Completed
		}
		opened := s.Started
		if external {
			opened = s.Gated
		}
		b.opened = append(b.opened, opened)
	}
	for _, batches := range bySeq {
		indexes := make([]int, 0, len(batches))
		for i := range batches {
			indexes = append(indexes, i)
		}
		slices.Sort(indexes)
		for k := 1; k < len(indexes); k++ {
			prev, cur := batches[indexes[k-1]], batches[indexes[k]]
			for _, at := range cur.opened {
				if at.IsZero() || prev.done.IsZero() {
					missing++
					continue
				}
				gates = append(gates, gateSample{At: at, Delay: max(at.Sub(prev.done), 0)})
			}
		}
	}
	return gates, missing
}

// delays summarises the delays of the gates opened in [from, until) (zero: unbounded).
func delays(gates []gateSample, from, until time.Time) latencies {
	var ds []time.Duration
	for _, g := range gates {
		if (from.IsZero() || !g.At.Before(from)) && (until.IsZero() || g.At.Before(until)) {
			ds = append(ds, g.Delay)
		}
	}
	return summarise(ds)
}

// sequenceDurations are the sequences' times from their first member seen claimed or
// gated to their last seen completed.
func sequenceDurations(commands map[string]seen) latencies {
	type life struct{ first, last time.Time }
	bySeq := map[string]*life{}
	for _, s := range commands {
		sp := bySeq[s.Seq]
		if sp == nil {
			sp = &life{}
			bySeq[s.Seq] = sp
		}
		for _, t := range []time.Time{s.Started, s.Gated} {
			if !t.IsZero() && (sp.first.IsZero() || t.Before(sp.first)) {
				sp.first = t
			}
		}
		if s.Completed.After(sp.last) {
			sp.last = s.Completed
		}
	}
	var ds []time.Duration
	for _, sp := range bySeq {
		if !sp.first.IsZero() && !sp.last.IsZero() {
			ds = append(ds, max(sp.last.Sub(sp.first), 0))
		}
	}
	return summarise(ds)
}

// span is the first and last instants of a set, ignoring zero times.
func span(times ...time.Time) (first, last time.Time) {
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return first, last
}
