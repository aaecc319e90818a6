package main

import (
	"math"
	"slices"
	"time"
)

// latencies summarises durations.
type latencies struct {
	N             int
	P50, P99, Max time.Duration
}

// summarise computes the nearest-rank percentiles of ds (which it sorts).
func summarise(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	slices.Sort(ds)
	return latencies{N: len(ds), P50: percentile(ds, 50), P99: percentile(ds, 99), Max: ds[len(ds)-1]}
}

// percentile is the nearest-rank percentile p (0 < p ≤ 100) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// meanSeconds is the mean of n durations that add up to sum seconds; 0 when n is 0.
func meanSeconds(sum, n float64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(sum / n * float64(time.Second))
}
