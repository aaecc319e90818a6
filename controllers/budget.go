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
//   - A sequence's progress (counts, current batch, message) is written at most once per
//     progressInterval, and so is the Assembling it starts in; a phase change, and so the
//     final write with the report, at once.
//
// Events are counted apart; events.go decides which are recorded.

// progressInterval is the least time between two progress writes of one sequence.
const progressInterval = time.Second

// progressWrites remembers when each sequence's status was last written, to coalesce its
// progress writes.
type progressWrites struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// due is when unit u's progress may be written next: now or later.
func (p *progressWrites) due(u unit, now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if at := p.last[u.id()].Add(progressInterval); at.After(now) {
		return at
	}
	return now
}

// wrote records a status write of unit u at now; a finished unit is forgotten.
func (p *progressWrites) wrote(u unit, now time.Time, finished bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil {
		p.last = map[string]time.Time{}
	}
	if finished {
		delete(p.last, u.id())
		return
	}
	p.last[u.id()] = now
}
