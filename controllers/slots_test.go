package controllers

import (
	"context"
	"testing"
	"time"
)

// TestSlotPoolGrantsOldestFirst: a freed slot goes to the oldest waiting command (then by
// sequence, then by batch), whatever the order in which they asked; a withdrawn ticket
// never gets one, and a slot granted to a withdrawn ticket is given back.
func TestSlotPoolGrantsOldestFirst(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newSlotPool(1)
	holder := p.request(slotPriority{created: t0.Add(time.Hour), unit: "seq:z"})
	if !granted(holder) {
		t.Fatal("the first request did not get the free slot")
	}
	newer := p.request(slotPriority{created: t0.Add(2 * time.Second), unit: "seq:a"})
	laterBatch := p.request(slotPriority{created: t0, unit: "seq:b", index: 3})
	withdrawn := p.request(slotPriority{created: t0, unit: "seq:a"})
	firstBatch := p.request(slotPriority{created: t0, unit: "seq:b", index: 0})
	p.withdraw(withdrawn)

	for i, want := range []*slotTicket{firstBatch, laterBatch, newer} {
		if granted(want) {
			t.Fatalf("grant %d came before a release", i)
		}
		p.release()
		if !granted(want) {
			t.Fatalf("release %d did not grant the oldest waiter", i)
		}
	}
	if granted(withdrawn) {
		t.Error("a withdrawn ticket was granted")
	}

	// newer holds the slot; give it back as if its context had ended at the grant.
	p.withdraw(newer)
	if !p.acquire(context.Background(), slotPriority{}) {
		t.Error("the slot given back by a withdrawn grant is not free")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if p.acquire(ctx, slotPriority{}) {
		t.Error("a second slot was acquired from a pool of one")
	}
	if p.waiting.Len() != 0 {
		t.Errorf("%d tickets left waiting after their context ended", p.waiting.Len())
	}
}

func granted(t *slotTicket) bool {
	select {
	case <-t.granted:
		return true
	default:
		return false
	}
}
