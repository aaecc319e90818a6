package engine

import (
	"context"
	"slices"

	"github.com/looplab/fsm"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Command machine events (DESIGN.md section 3).
const (
	eventOpen    = "open"    // the gate opened
	eventStart   = "start"   // an executor claimed the command
	eventSucceed = "succeed" // the executor reported success
	eventFail    = "fail"    // the executor reported failure, or the command cannot run
	eventExpire  = "expire"  // the TTL passed
	eventSkip    = "skip"    // a predecessor failed, or the when condition was false
)

// Sequence machine events.
const (
	eventAssembled = "assembled" // every member is present
	eventFinish    = "finish"    // every member finished without a blocking failure
	eventAbort     = "abort"     // a blocking failure, a broken or incomplete assembly
)

var nonTerminalCommand = []string{
	string(batonv1.CommandPending), string(batonv1.CommandReady), string(batonv1.CommandRunning),
}

// commandEvents is the command state machine. It and sequenceEvents are the single place
// that says which transition is legal; everything else asks CanTransition.
var commandEvents = fsm.Events{
	{Name: eventOpen, Src: []string{string(batonv1.CommandPending)}, Dst: string(batonv1.CommandReady)},
	{Name: eventStart, Src: []string{string(batonv1.CommandReady)}, Dst: string(batonv1.CommandRunning)},
	{Name: eventSucceed, Src: []string{string(batonv1.CommandRunning)}, Dst: string(batonv1.CommandSucceeded)},
	// A command that cannot run (invalid condition or gate labels, executor cutoff, broken
	// assembly) fails without starting.
	{Name: eventFail, Src: nonTerminalCommand, Dst: string(batonv1.CommandFailed)},
	{Name: eventExpire, Src: nonTerminalCommand, Dst: string(batonv1.CommandExpired)},
	{Name: eventSkip, Src: nonTerminalCommand, Dst: string(batonv1.CommandSkipped)},
}

// sequenceEvents is the sequence state machine.
var sequenceEvents = fsm.Events{
	{Name: eventAssembled, Src: []string{string(batonv1.SequenceAssembling)}, Dst: string(batonv1.SequenceRunning)},
	{Name: eventFinish, Src: []string{string(batonv1.SequenceRunning)}, Dst: string(batonv1.SequenceSucceeded)},
	// Incomplete, InconsistentCount, ... fail a sequence that never ran.
	{Name: eventAbort, Src: []string{string(batonv1.SequenceAssembling), string(batonv1.SequenceRunning)}, Dst: string(batonv1.SequenceFailed)},
}

var (
	commandStates = []batonv1.CommandPhase{
		batonv1.CommandPending, batonv1.CommandReady, batonv1.CommandRunning,
		batonv1.CommandSucceeded, batonv1.CommandFailed, batonv1.CommandExpired, batonv1.CommandSkipped,
	}
	sequenceStates = []batonv1.SequencePhase{
		batonv1.SequenceAssembling, batonv1.SequenceRunning, batonv1.SequenceSucceeded, batonv1.SequenceFailed,
	}
	// Reachability tables derived once from the machines above: fsm.FSM allocates, and
	// Decide asks for every member.
	commandReach  = reachability(commandEvents, phaseNames(commandStates))
	sequenceReach = reachability(sequenceEvents, phaseNames(sequenceStates))
)

// NewCommandMachine returns the command state machine positioned at phase, for callers that
// want to drive or draw it (fsm.Visualize).
func NewCommandMachine(phase batonv1.CommandPhase) *fsm.FSM {
	return fsm.NewFSM(string(phase), commandEvents, nil)
}

// NewSequenceMachine returns the sequence state machine positioned at phase.
func NewSequenceMachine(phase batonv1.SequencePhase) *fsm.FSM {
	return fsm.NewFSM(string(phase), sequenceEvents, nil)
}

// CanTransition reports whether a command may go from one phase to another. A status is
// observed, not streamed, so one observation may cover several events (an executor that
// starts and finishes between two reconciles): a change is legal when the machine reaches
// the new phase in one or more events. Staying put is legal. The empty phase is Pending.
// Nothing leaves a terminal phase: a completed command reported started again is illegal.
func CanTransition(from, to batonv1.CommandPhase) bool {
	f, t := commandOrdinal(from), commandOrdinal(to)
	if f < 0 || t < 0 {
		return false
	}
	return f == t || commandReach[f][t]
}

// CanTransitionSequence is CanTransition for the sequence machine. The empty phase is
// the state before the first write: any phase may follow it.
func CanTransitionSequence(from, to batonv1.SequencePhase) bool {
	if from == "" {
		return sequenceOrdinal(to) >= 0
	}
	f, t := sequenceOrdinal(from), sequenceOrdinal(to)
	if f < 0 || t < 0 {
		return false
	}
	return f == t || sequenceReach[f][t]
}

// commandOrdinal is p's row in the reachability table: its place in commandStates (the
// empty phase is Pending), -1 for an unknown phase.
func commandOrdinal(p batonv1.CommandPhase) int {
	if p == "" {
		p = batonv1.CommandPending
	}
	if i, ok := commandOrdinals[p]; ok {
		return i
	}
	return -1
}

// commandOrdinals indexes commandStates: every member of every plan is looked up.
var commandOrdinals = func() map[batonv1.CommandPhase]int {
	m := make(map[batonv1.CommandPhase]int, len(commandStates))
	for i, p := range commandStates {
		m[p] = i
	}
	return m
}()

// SequencePhases lists every sequence phase in the machine's order, for callers that keep
// something per phase (the baton_sequences gauge).
func SequencePhases() []batonv1.SequencePhase { return slices.Clone(sequenceStates) }

func sequenceOrdinal(p batonv1.SequencePhase) int {
	return slices.Index(sequenceStates, p)
}

// CanonicalPhase is p as the package's constant when it is a command phase, whose bytes
// every holder shares: comparing it then reads no memory of its own. A caller that keeps
// thousands of members (the controller's member index) files their phases so.
func CanonicalPhase(p batonv1.CommandPhase) batonv1.CommandPhase {
	if i, ok := commandOrdinals[p]; ok {
		return commandStates[i]
	}
	return p
}

// knownPhase reports whether p is one of the command phases.
func knownPhase(p batonv1.CommandPhase) bool {
	return p != "" && commandOrdinal(p) >= 0
}

func phaseNames[P ~string](phases []P) []string {
	out := make([]string, len(phases))
	for i, p := range phases {
		out[i] = string(p)
	}
	return out
}

// reachability asks the fsm library, for every state, which events it accepts and where
// each leads, then closes the one-step relation transitively. states must be listed in
// ordinal order.
func reachability(events fsm.Events, states []string) [][]bool {
	n := len(states)
	ordinal := make(map[string]int, n)
	for i, s := range states {
		ordinal[s] = i
	}
	reach := make([][]bool, n)
	for i, s := range states {
		reach[i] = make([]bool, n)
		for _, ev := range fsm.NewFSM(s, events, nil).AvailableTransitions() {
			m := fsm.NewFSM(s, events, nil)
			if err := m.Event(context.Background(), ev); err != nil {
				continue
			}
			if j, ok := ordinal[m.Current()]; ok {
				reach[i][j] = true
			}
		}
	}
	// Floyd–Warshall closure; n is 7 at most.
	for k := range n {
		for i := range n {
			for j := range n {
				if reach[i][k] && reach[k][j] {
					reach[i][j] = true
				}
			}
		}
	}
	return reach
}
