package main

import (
	"slices"
	"time"
)

// gateLatencies measures, for every member of every batch after the first, the time from
// the moment the last member of the previous batch was seen completed to the moment the
// member was seen claimed (in-process) or gate-labelled (external). missing counts
// members whose opening was never seen.
func gateLatencies(commands map[string]seen, external bool) (ds []time.Duration, missing int) {
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
				ds = append(ds, max(at.Sub(prev.done), 0))
			}
		}
	}
	return ds, missing
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
