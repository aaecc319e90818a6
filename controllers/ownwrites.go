package controllers

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ownWrites are the writes the reconciler made that the cache may not show yet: per unit,
// the resourceVersion each object had after its last write here. A reconcile whose view
// holds an older version of one of them works from before its own write: it would decide
// again what it already did, and the write would be refused as a conflict, a request the
// API server serves for nothing (one sequence in seven under a burst). It waits instead for
// the watch, which brings the write and queues the unit again: all of it when a command is
// stale, only the sequence's own write when the sequence is (the members' decisions never
// waited on the stored sequence status, and a gate should not wait on its watch).
//
// resourceVersions are compared as the API server defines their order for one resource
// (apimachinery's resourceversion package); one that cannot be compared is not waited for.
type ownWrites struct {
	mu     sync.Mutex
	byUnit map[string]map[types.UID]string
}

// wrote records that obj, of unit u, was written and now has obj's resourceVersion.
func (o *ownWrites) wrote(u unit, obj client.Object) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byUnit == nil {
		o.byUnit = map[string]map[types.UID]string{}
	}
	if o.byUnit[u.id()] == nil {
		o.byUnit[u.id()] = map[types.UID]string{}
	}
	o.byUnit[u.id()][obj.GetUID()] = obj.GetResourceVersion()
}

// behind lists the objects of unit u of which the view, in which seen finds an object by
// UID (nil: not in the view; false: the view cannot tell yet), holds a version older than
// the one written here. Writes the view shows (or something later), and objects it does
// not hold any more, are forgotten.
func (o *ownWrites) behind(u unit, seen func(types.UID) (client.Object, bool)) []types.UID {
	o.mu.Lock()
	defer o.mu.Unlock()
	written := o.byUnit[u.id()]
	var stale []types.UID
	for uid, rv := range written {
		obj, known := seen(uid)
		if !known {
			continue
		}
		if obj != nil {
			if cmp, err := resourceversion.CompareResourceVersion(obj.GetResourceVersion(), rv); err == nil && cmp < 0 {
				stale = append(stale, uid)
				continue
			}
		}
		delete(written, uid)
	}
	if len(written) == 0 {
		delete(o.byUnit, u.id())
	}
	return stale
}

// forget drops what is remembered of unit u: it has nothing left to be behind on.
func (o *ownWrites) forget(u unit) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.byUnit, u.id())
}
