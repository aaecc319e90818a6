package controllers

import (
	"sync"
	"time"
)

// The write budget (DESIGN.md 5b), counted at the API server, is kept by these rules:
//
//   - Nothing writes Pending: a missing phase reads as Pending.
//   - An in-process member is claimed as its gate opens (one write: Running, started,
//     executer); Ready is written only for a member that must wait for a free slot. Its
//     result is the second write.
//   - An external member costs Ready, the gate-opening metadata patch, and the final phase
//     once its executor reports.
//   - A sequence's progress (counts, current batch, message) is written progressInterval
//     after it first differs from what is stored (trailing edge: every change within that
//     second goes into one write), and so are the Assembling it starts in and its change
//     to Running; only its final phase, and so the write with the report, at once,
//     carrying anything waiting. A sequence that ends within its first second costs its
//     create and its final write, nothing between (DESIGN.md 5). This process's own
//     claim, which changes nothing the sequence's status shows, queues it
//     progressInterval later (members.go, indexing).
//
// Events are writes too (DESIGN.md 5b counts them); events.go decides which are
// recorded: by default (--command-events=warnings) none on a command that succeeds, and
// two on a sequence, its start and its end, each recorded with the status write that
// shows it. The floor is one write a step plus a sequence's create, final write and two
// Events.

// progressInterval is the least time between two progress writes of one sequence.
const progressInterval = time.Second

// progressWrites remembers, per sequence, since when its progress has been waiting to be
// written, to coalesce its progress writes.
type progressWrites struct {
	mu      sync.Mutex
	waiting map[string]time.Time
}

// due is when unit u's progress, found differing from what is stored at now, is to be
// written: progressInterval after it was first found differing.
func (p *progressWrites) due(u unit, now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiting == nil {
		p.waiting = map[string]time.Time{}
	}
	since, ok := p.waiting[u.id()]
	if !ok {
		since = now
		p.waiting[u.id()] = since
	}
	return since.Add(progressInterval)
}

// wrote records that unit u's status was written (or created): nothing waits.
func (p *progressWrites) wrote(u unit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiting, u.id())
}
