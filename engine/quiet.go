package engine

import (
	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// The quiet path: batches no plan changes (settled, or waiting behind a shut gate) are
// found in one pass and kept as runs, never decided member by member, so a long
// sequence costs one scan of its quiet members per reconcile.

// scanBatch finds the end of the batch that starts at lo and, in the same pass, whether it
// is quiet, a batch no plan changes: every member is settled, or, behind a gate this plan
// keeps shut with nothing failed, every member waits in Pending for an in-process handler
// before its TTL. passed says whether a quiet batch lets the next open. Deciding a quiet
// batch member by member would plan nothing for it, at a cost that grows with the sequence
// on every reconcile; one pass is all a long sequence's quiet members cost.
func (d *decision) scanBatch(lo int, open bool) (hi int, quiet, passed bool) {
	first := d.member(lo)
	settled := d.quiet
	waiting := d.quiet && !open && d.culprit == nil && d.failure == nil
	var t tallied
	for hi = lo; hi < d.n; hi++ {
		m := d.member(hi)
		if hi > lo && !sameBatch(first, m) {
			break
		}
		if settled = settled && settledMember(m); settled {
			t.add(m.Status.Phase)
		}
		waiting = waiting && d.waiting(m)
	}
	if settled {
		d.quietTally.merge(t)
	}
	return hi, settled || waiting, settled
}

// settledMember reports whether m is recorded terminal, reported completed, and passed: no
// plan changes it (rule 1), and it lets the next batch open.
func settledMember(m *Member) bool {
	st := &m.Status
	if !st.Completed {
		return false
	}
	switch st.Phase {
	case batonv1.CommandSucceeded:
		return true
	case batonv1.CommandSkipped:
		if st.Error != nil && st.Error.Reason == batonv1.ReasonConditionFalse {
			return true
		}
	}
	return st.Phase.Terminal() && continueOnFailure(m)
}

// settledLead adds the settled batches that a summary says lead the sequence to the walk,
// as scanBatch would have, and returns where they end.
func (d *decision) settledLead(open bool) int {
	sum := d.summary
	if sum == nil || sum.settled == 0 {
		return 0
	}
	d.addQuiet(0, sum.settled)
	d.quietTally.merge(sum.tally)
	if idx := d.member(sum.settled - 1).Index; open && idx != nil {
		d.lastOpen, d.opened = *idx, true
	}
	return sum.settled
}

// waitingTail reports whether the members from batch start lo to the end are quiet, as a
// summary says: each waits for its handler, behind a gate this plan keeps shut with
// nothing failed, before the earliest of their deadlines. Then they are the walk's last
// quiet run, as scanBatch would have found them batch by batch.
func (d *decision) waitingTail(lo int, open bool) bool {
	sum := d.summary
	if sum == nil || open || d.culprit != nil || d.failure != nil {
		return false
	}
	for _, w := range sum.waiting {
		if w.from == lo && !d.passed(w.until) {
			d.wakeAt(w.until)
			d.addQuiet(lo, d.n)
			return true
		}
	}
	return false
}

// waiting reports whether m, behind a shut gate, waits in Pending for an in-process handler
// with its TTL still ahead: nothing to write, only a wake-up at its deadline.
func (d *decision) waiting(m *Member) bool {
	if !waitsForHandler(m) {
		return false
	}
	_, dl := deadline(m, d.opts)
	if d.passed(dl) {
		return false
	}
	d.wakeAt(dl)
	return true
}

// addQuiet adds a quiet batch to the walk, in the quiet run before it if there is one.
func (d *decision) addQuiet(lo, hi int) {
	if last := len(d.segments) - 1; last >= 0 && d.segments[last].states == nil {
		d.segments[last].hi = hi
		return
	}
	d.segments = append(d.segments, segment{lo: lo, hi: hi})
}
