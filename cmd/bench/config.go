package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// defaultBaseline is main as issue 19 measured it (before the one-write step, Events by
// policy and the one-write short sequence): the manager every figure of that issue's
// goals is compared with, memory and the chain ratio in particular.
const defaultBaseline = "dda4003"

// settings are the bench's knobs, read from the environment so `make bench` needs no flags.
type settings struct {
	Baseline string   // BENCH_BASELINE: git revision of the baseline build
	Builds   []string // BENCH_BUILDS: "baseline,current" (default), or one of them
	Full     bool     // BENCH_FULL=1: the long measures too
	Scale    float64  // BENCH_SCALE: multiplies every count (development runs)
	Profiles string   // BENCH_PROFILES: directory for the manager's pprof profiles, when it serves pprof
	Only     []string // BENCH_ONLY: the measures to run (A, B, C, chains, large, stored); empty: all

	CeilingDuration time.Duration // how long each ceiling measure patches
	Timeout         time.Duration // cap on any one workload (BENCH_TIMEOUT overrides)

	WorkloadA  shape // in-process, batch width 1
	WorkloadB  shape // in-process, batches
	WorkloadC  shape // external
	Chains     []int // chain lengths
	Stored     int   // commands stored for the memory measure (BENCH_STORED overrides)
	BigSeq     shape // one large sequence, for the CommandSequence size
	BigSeqOn   bool
	Workers    int // client workers creating commands
	ExecWorker int // workers of the simulated executor and of the peer's custom-task controller

	Peer      string // BENCH_PEER: "tekton" measures Tekton Pipelines after the builds; "" none
	PeerChain int    // the peer's chain length (100, scaled)
}

// shape is a workload: Sequences × Steps commands, Width members per batch.
type shape struct {
	Sequences, Steps, Width int
}

func (s shape) commands() int { return s.Sequences * s.Steps }

func (s shape) String() string {
	if s.Width > 1 {
		return fmt.Sprintf("%d × %d, batches of %d", s.Sequences, s.Steps, s.Width)
	}
	return fmt.Sprintf("%d × %d", s.Sequences, s.Steps)
}

func loadSettings() (settings, error) {
	s := settings{
		Baseline:        envOr("BENCH_BASELINE", defaultBaseline),
		Builds:          strings.Split(envOr("BENCH_BUILDS", "baseline,current"), ","),
		Full:            os.Getenv("BENCH_FULL") == "1",
		Profiles:        os.Getenv("BENCH_PROFILES"),
		Only:            strings.FieldsFunc(os.Getenv("BENCH_ONLY"), func(r rune) bool { return r == ',' }),
		Scale:           1,
		CeilingDuration: 4 * time.Second,
		Timeout:         4 * time.Minute,
		WorkloadA:       shape{Sequences: 200, Steps: 5, Width: 1},
		WorkloadB:       shape{Sequences: 50, Steps: 10, Width: 5},
		WorkloadC:       shape{Sequences: 200, Steps: 5, Width: 1},
		Chains:          []int{10, 100, 1000},
		Stored:          10000,
		BigSeq:          shape{Sequences: 1, Steps: 2000, Width: 50},
		Workers:         16,
		ExecWorker:      8,
		Peer:            os.Getenv("BENCH_PEER"),
		PeerChain:       100,
	}
	if s.Peer != "" && s.Peer != peerTekton {
		return s, fmt.Errorf("BENCH_PEER=%q: the one peer is %s", s.Peer, peerTekton)
	}
	for _, b := range s.Builds {
		if b != "baseline" && b != "current" {
			return s, fmt.Errorf("BENCH_BUILDS: %q is neither baseline nor current", b)
		}
	}
	for _, m := range s.Only {
		if !slices.Contains(measures, m) {
			return s, fmt.Errorf("BENCH_ONLY: %q is not one of %s", m, strings.Join(measures, ", "))
		}
	}
	if v := os.Getenv("BENCH_CHAINS"); v != "" {
		s.Chains = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 10 {
				return s, fmt.Errorf("BENCH_CHAINS=%q: want chain lengths of at least 10, comma-separated", v)
			}
			s.Chains = append(s.Chains, n)
		}
	}
	if v := os.Getenv("BENCH_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return s, fmt.Errorf("BENCH_SCALE=%q: want a positive number", v)
		}
		s.Scale = f
	}
	if s.Full && os.Getenv("BENCH_CHAINS") == "" {
		s.Chains = append(s.Chains, 10000)
	}
	if s.Full {
		s.Stored = 50000
		s.BigSeqOn = true
		s.Timeout = 15 * time.Minute
	}
	if v := os.Getenv("BENCH_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return s, fmt.Errorf("BENCH_TIMEOUT=%q: want a positive duration such as 30s", v)
		}
		s.Timeout = d
	}
	if v := os.Getenv("BENCH_STORED"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return s, fmt.Errorf("BENCH_STORED=%q: want a positive number of commands", v)
		}
		s.Stored = n
	}
	s.WorkloadA.Sequences = s.scaled(s.WorkloadA.Sequences)
	s.WorkloadB.Sequences = s.scaled(s.WorkloadB.Sequences)
	s.WorkloadC.Sequences = s.scaled(s.WorkloadC.Sequences)
	var chains []int
	for _, n := range s.Chains {
		if n = max(s.scaled(n), 10); !slices.Contains(chains, n) {
			chains = append(chains, n)
		}
	}
	s.Chains = chains
	s.Stored = s.scaled(s.Stored)
	s.PeerChain = max(s.scaled(s.PeerChain), 10)
	s.BigSeq.Steps = max(s.scaled(s.BigSeq.Steps)/s.BigSeq.Width, 1) * s.BigSeq.Width
	return s, nil
}

// measures are the names BENCH_ONLY accepts.
var measures = []string{"A", "B", "C", "chains", "large", "stored"}

// runs says whether the measure named m is to run.
func (s settings) runs(m string) bool { return len(s.Only) == 0 || slices.Contains(s.Only, m) }

func (s settings) scaled(n int) int { return max(int(math.Round(float64(n)*s.Scale)), 1) }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
