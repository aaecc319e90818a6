package controllers

import (
	"container/heap"
	"context"
	"sync"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// slotPool bounds the in-process handlers running at once (--max-concurrent-steps) and
// hands a freed slot to the oldest waiting command. A running sequence's next step is as
// old as the sequence, so it overtakes the first steps of sequences that arrived later:
// under a burst, sequences finish in arrival order instead of all advancing together. Both
// bound how long a successor waits for its gate (Little's law: with every sequence of a
// burst in flight at once, each step waits for a step of every other sequence), and a
// sequence that finishes quickly has its progress coalesced into its final write.
type slotPool struct {
	mu      sync.Mutex
	free    int
	waiting waiters
}

func newSlotPool(size int) *slotPool { return &slotPool{free: max(size, 1)} }

// slotPriority orders waiting commands: older first, then by sequence, then by batch, so
// the order is total and the same on every manager.
type slotPriority struct {
	created time.Time
	unit    string
	index   int
}

func priorityOf(u unit, cmd *batonv1.OperatorCommand) slotPriority {
	p := slotPriority{created: cmd.CreationTimestamp.Time, unit: u.id()}
	if cmd.Spec.CommandIndex != nil {
		p.index = *cmd.Spec.CommandIndex
	}
	return p
}

func (p slotPriority) before(q slotPriority) bool {
	switch {
	case !p.created.Equal(q.created):
		return p.created.Before(q.created)
	case p.unit != q.unit:
		return p.unit < q.unit
	}
	return p.index < q.index
}

// slotTicket is one request for a slot: granted is closed once the slot is the holder's.
type slotTicket struct {
	priority slotPriority
	granted  chan struct{}
	pos      int // in the heap; -1 once granted or withdrawn
}

// request asks for a slot: the ticket is granted at once when one is free.
func (p *slotPool) request(priority slotPriority) *slotTicket {
	t := &slotTicket{priority: priority, granted: make(chan struct{}), pos: -1}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.free > 0 {
		p.free--
		close(t.granted)
		return t
	}
	heap.Push(&p.waiting, t)
	return t
}

// await waits until the ticket is granted (true) or ctx ends (false; the ticket is
// withdrawn, and a slot granted meanwhile is given back).
func (p *slotPool) await(ctx context.Context, t *slotTicket) bool {
	select {
	case <-t.granted:
		return true
	case <-ctx.Done():
		p.withdraw(t)
		return false
	}
}

// acquire is request and await in one.
func (p *slotPool) acquire(ctx context.Context, priority slotPriority) bool {
	return p.await(ctx, p.request(priority))
}

// withdraw gives up a ticket, granted or not.
func (p *slotPool) withdraw(t *slotTicket) {
	p.mu.Lock()
	queued := t.pos >= 0
	if queued {
		heap.Remove(&p.waiting, t.pos)
	}
	p.mu.Unlock()
	if !queued {
		p.release()
	}
}

// release frees a held slot: the oldest waiter gets it.
func (p *slotPool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiting.Len() == 0 {
		p.free++
		return
	}
	t := heap.Pop(&p.waiting).(*slotTicket)
	close(t.granted)
}

// waiters is a heap of tickets, the highest priority first.
type waiters []*slotTicket

func (w waiters) Len() int           { return len(w) }
func (w waiters) Less(i, j int) bool { return w[i].priority.before(w[j].priority) }
func (w waiters) Swap(i, j int) {
	w[i], w[j] = w[j], w[i]
	w[i].pos, w[j].pos = i, j
}
func (w *waiters) Push(x any) {
	t := x.(*slotTicket)
	t.pos = len(*w)
	*w = append(*w, t)
}
func (w *waiters) Pop() any {
	old := *w
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.pos = -1
	*w = old[:len(old)-1]
	return t
}
