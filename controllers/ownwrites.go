package controllers

import (
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A unit remembers the writes this process made that the cache may not show yet
// (unitState.written): the resourceVersion each object had after its last write here. A
// reconcile whose view holds an older version of one of them works from before its own
// write: it would decide again what it already did, and the write would be refused as a
// conflict, a request the API server serves for nothing. It waits instead for the watch,
// which brings the write and queues the unit again: all of it when a command is stale, only
// the sequence's own write when the sequence is (the members' decisions never waited on the
// stored sequence status, and a gate should not wait on its watch).
//
// resourceVersions are compared as the API server defines their order for one resource
// (apimachinery's resourceversion package); one that cannot be compared is not waited for.

// wrote records that obj, of unit u, was written here and now has obj's resourceVersion.
// Only the writers call it (statusWriter, sequenceWriter): a write is recorded where it is
// made.
func (s *units) wrote(u unit, obj client.Object) {
	s.with(u, func(st *unitState) { wroteLocked(st, obj) })
}

func wroteLocked(st *unitState, obj client.Object) {
	if st.written == nil {
		st.written = map[types.UID]string{}
	}
	st.written[obj.GetUID()] = obj.GetResourceVersion()
}

// behind lists the objects of unit u of which the view, in which seen finds an object by
// UID (nil: not in the view), holds a version older than the one written here. Writes the
// view shows (or something later), and objects it does not hold any more, are forgotten.
// The sequence this process created that the cache does not show yet is neither: the view
// cannot tell, and its write is kept until it can.
func (s *units) behind(u unit, seen func(types.UID) client.Object) []types.UID {
	var stale []types.UID
	s.with(u, func(st *unitState) {
		for uid, rv := range st.written {
			if st.created != nil && st.created.UID == uid {
				continue
			}
			if obj := seen(uid); obj != nil {
				if cmp, err := resourceversion.CompareResourceVersion(obj.GetResourceVersion(), rv); err == nil && cmp < 0 {
					stale = append(stale, uid)
					continue
				}
			}
			delete(st.written, uid)
		}
	})
	return stale
}
