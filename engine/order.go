package engine

import (
	"cmp"
	"slices"
)

// Report order: members without an index first, then by commandIndex, then by name. A
// batch is a run of members with the same index in that order.

// member is the k-th member in report order.
func (d *decision) member(k int) *Member { return d.snap.Members[d.position(k)] }

// position is the snapshot position of the k-th member in report order.
func (d *decision) position(k int) int {
	if d.order == nil {
		return k
	}
	return d.order[k]
}

// batchEnd is the end of the batch that starts at report position lo.
func (d *decision) batchEnd(lo int) int {
	hi := lo + 1
	for hi < d.n && sameBatch(d.member(lo), d.member(hi)) {
		hi++
	}
	return hi
}

// inReportOrder is the members' positions in report order.
func inReportOrder(members []*Member) []int {
	order := make([]int, len(members))
	for i := range order {
		order[i] = i
	}
	// Sort positions, not members: a member is large. Positions break ties, so the order
	// is total and an unstable sort (several times faster than a stable one on a large
	// sequence) is deterministic.
	slices.SortFunc(order, func(a, b int) int {
		if c := CompareMembers(members[a], members[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return order
}

// inOrder is the members in report order.
func (d *decision) inOrder() []*Member {
	out := make([]*Member, d.n)
	for k := range out {
		out[k] = d.member(k)
	}
	return out
}

// CompareMembers is report order: members without an index first, then by index, then by
// name.
func CompareMembers(a, b *Member) int {
	switch {
	case a.Index == nil && b.Index != nil:
		return -1
	case a.Index != nil && b.Index == nil:
		return 1
	case a.Index != nil && b.Index != nil && *a.Index != *b.Index:
		return cmp.Compare(*a.Index, *b.Index)
	}
	return cmp.Compare(a.Name, b.Name)
}

func sameBatch(a, b *Member) bool {
	if a.Index == nil || b.Index == nil {
		return a.Index == nil && b.Index == nil
	}
	return *a.Index == *b.Index
}
