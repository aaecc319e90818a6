package engine

import (
	"fmt"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// deadline is the member's TTL instant: creation + spec.ttl, or + DefaultTTL where the TTL
// is 0 (a negative TTL reads as 0). Zero means no TTL. Time arithmetic saturates, so a huge
// TTL is simply never reached.
func deadline(m *Member, opts Options) (time.Duration, time.Time) {
	ttl := m.TTL
	if ttl <= 0 {
		ttl = opts.DefaultTTL
	}
	if ttl <= 0 {
		return 0, time.Time{}
	}
	return ttl, m.CreationTimestamp.Add(ttl)
}

// expired reports whether a non-terminal member's TTL has passed.
func (d *decision) expired(ms *memberState) bool {
	return d.passed(ms.deadline)
}

// passed reports whether deadline dl (zero: none) is at or before now.
func (d *decision) passed(dl time.Time) bool { return !dl.IsZero() && !d.now.Before(dl) }

// expire completes a member whose TTL passed. completedAt is now, when baton saw it; the
// message names the deadline itself.
func (d *decision) expire(ms *memberState) {
	msg := fmt.Sprintf("TTL %s from creation passed at %s", ms.ttl, formatTime(ms.deadline))
	d.finish(ms, batonv1.CommandExpired, batonv1.ReasonExpired, msg)
}

// failedAt is when a terminal member failed: its deadline when it expired, else its
// completedAt (the second it was recorded).
func failedAt(ms *memberState) time.Time {
	if ms.plan.Phase == batonv1.CommandExpired && !ms.deadline.IsZero() {
		return ms.deadline
	}
	if at := ms.plan.Status.CompletedAt; at != nil {
		return at.Time
	}
	return time.Time{}
}

// deadlineOrNow is the member's deadline, or now for a member without a TTL (whose own
// deadline never competes with a predecessor's failure).
func (ms *memberState) deadlineOrNow(now time.Time) time.Time {
	if ms.deadline.IsZero() {
		return now
	}
	return ms.deadline
}

func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// earliest is the earlier of two instants, zero meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}
