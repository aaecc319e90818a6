package controllers

import (
	"context"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/steps"
)

// memberIndex holds every unit's commands in report order, each already converted to the
// engine's Member. The command watch keeps it current, one command per event, before it
// queues the command's unit: a reconcile reads its members without listing, converting or
// sorting the whole sequence, work that grew with the sequence on every step and dominated
// a long chain's reconcile. Like the cache it mirrors, its
// commands and members are shared: read-only.
type memberIndex struct {
	registry *steps.Registry
	opts     engine.Options // the rosters' deadlines are computed with them

	mu    sync.RWMutex
	units map[string]*unitMembers // by unit id
	where map[types.UID]placed    // where each command is filed
}

// unitMembers are one unit's commands and their engine view, in the same (report) order.
type unitMembers struct {
	cmds []*batonv1.OperatorCommand
	// members keeps the engine's view of cmds and what a decision may take from it without
	// reading each. A filed member is never modified, and leaves InFlight and Held unset:
	// only a reconcile knows them.
	members *engine.Roster
	// stringTTLs counts the commands whose spec.ttl is a duration string still to be
	// rewritten, so that a reconcile looks for them only when there are some.
	stringTTLs int
}

// placed is where a command is filed: its unit and its sort key at the time.
type placed struct {
	unit  string
	index *int
	name  string
}

func newMemberIndex(registry *steps.Registry, opts engine.Options) *memberIndex {
	return &memberIndex{registry: registry, opts: opts, units: map[string]*unitMembers{}, where: map[types.UID]placed{}}
}

// members is unit u's view: its commands (the cached objects themselves) and their engine
// view, in report order, in slices of its own, with the summary of that view.
func (x *memberIndex) members(u unit) unitView {
	x.mu.RLock()
	defer x.mu.RUnlock()
	v := unitView{index: x}
	if um := x.units[u.id()]; um != nil {
		v.cmds, v.members = slices.Clone(um.cmds), slices.Clone(um.members.Members())
		v.summary = um.members.Summary()
		v.stringTTLs = um.stringTTLs
	}
	return v
}

// unitView is one unit's members as one reconcile sees them.
type unitView struct {
	cmds       []*batonv1.OperatorCommand
	members    []*engine.Member // in the order of cmds; shared with the index: read-only
	summary    *engine.Summary  // of members
	stringTTLs int              // commands whose spec.ttl is a duration string
	index      *memberIndex
}

// find is the position of command uid in the view. It searches by the key the command is
// filed under now, so a reconcile finds the few commands this process holds without a pass
// over the sequence; a command filed under another key since the view was taken is looked
// for one by one.
func (v unitView) find(uid types.UID) (int, bool) {
	v.index.mu.RLock()
	p, ok := v.index.where[uid]
	v.index.mu.RUnlock()
	if ok {
		if i, found := search(v.members, p); found && v.cmds[i].UID == uid {
			return i, true
		}
	}
	i := slices.IndexFunc(v.cmds, func(c *batonv1.OperatorCommand) bool { return c.UID == uid })
	return i, i >= 0
}

// lookup is the view's command uid, nil when the unit has none.
func (v unitView) lookup(uid types.UID) *batonv1.OperatorCommand {
	if i, ok := v.find(uid); ok {
		return v.cmds[i]
	}
	return nil
}

// put files cmd, replacing the version filed before; a command moved to another unit (a
// relabelled sequence key, a commandCount added) leaves the old one.
func (x *memberIndex) put(cmd *batonv1.OperatorCommand) {
	m := memberOf(cmd, x.registry)
	id := unit{namespace: cmd.Namespace, index: unitKey(cmd)}.id()
	x.mu.Lock()
	defer x.mu.Unlock()
	if p, ok := x.where[cmd.UID]; ok {
		if p.unit == id && engine.CompareMembers(p.key(), m) == 0 {
			um := x.units[id]
			if i, found := um.find(p); found {
				um.set(i, cmd, m)
				return
			}
		}
		x.removeLocked(cmd.UID)
	}
	um := x.units[id]
	if um == nil {
		um = &unitMembers{members: engine.NewRoster(x.opts)}
		x.units[id] = um
	}
	p := placed{unit: id, index: m.Index, name: m.Name}
	x.where[cmd.UID] = p
	i, found := um.find(p)
	if found {
		// A command of the same name whose deletion was never seen: this one replaced it.
		delete(x.where, um.cmds[i].UID)
		um.set(i, cmd, m)
		return
	}
	um.cmds = slices.Insert(um.cmds, i, cmd)
	um.members.Insert(i, m)
	um.stringTTLs += stringTTL(cmd)
}

// set files cmd, and its member m, in place of the command at i.
func (um *unitMembers) set(i int, cmd *batonv1.OperatorCommand, m *engine.Member) {
	um.stringTTLs += stringTTL(cmd) - stringTTL(um.cmds[i])
	um.cmds[i] = cmd
	um.members.Set(i, m)
}

func stringTTL(cmd *batonv1.OperatorCommand) int {
	if ttlToRewrite(cmd) {
		return 1
	}
	return 0
}

// remove forgets a deleted command.
func (x *memberIndex) remove(cmd *batonv1.OperatorCommand) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(cmd.UID)
}

func (x *memberIndex) removeLocked(uid types.UID) {
	p, ok := x.where[uid]
	if !ok {
		return
	}
	delete(x.where, uid)
	um := x.units[p.unit]
	if um == nil {
		return
	}
	i, found := um.find(p)
	if !found || um.cmds[i].UID != uid {
		return
	}
	um.stringTTLs -= stringTTL(um.cmds[i])
	um.cmds = slices.Delete(um.cmds, i, i+1)
	um.members.Delete(i)
	if len(um.cmds) == 0 {
		delete(x.units, p.unit)
	}
}

func (um *unitMembers) find(p placed) (int, bool) { return search(um.members.Members(), p) }

// search is the position of the member filed under p in members (report order). Names are
// unique in a namespace, so the key finds one command at most.
func search(members []*engine.Member, p placed) (int, bool) {
	return slices.BinarySearchFunc(members, p.key(), engine.CompareMembers)
}

// key is a member that sorts where the command filed under p does.
func (p placed) key() *engine.Member { return &engine.Member{Name: p.name, Index: p.index} }

// memberOf is the engine's view of a command, less what only a reconcile knows (whether
// this process holds its handler).
func memberOf(cmd *batonv1.OperatorCommand, registry *steps.Registry) *engine.Member {
	handler, hasHandler := registry.Lookup(cmd.Spec.CommandType, cmd.Spec.CommandVersion)
	f := &filedMember{Member: engine.Member{
		Name:              cmd.Name,
		Labels:            cmd.Labels,
		Annotations:       cmd.Annotations,
		CommandType:       cmd.Spec.CommandType,
		CommandVersion:    cmd.Spec.CommandVersion,
		CreationTimestamp: cmd.CreationTimestamp.Time,
		TTL:               cmd.Spec.TTL.Std(),
		Args:              cmd.Spec.Args,
		Status:            cmd.Status,
		HasHandler:        hasHandler,
		Idempotent:        hasHandler && steps.IsIdempotent(handler),
		IgnoresSteps:      hasHandler && steps.IgnoresSteps(handler),
	}}
	if i := cmd.Spec.CommandIndex; i != nil {
		f.index = *i
		f.Index = &f.index
	}
	if c := cmd.Spec.CommandCount; c != nil {
		f.count = *c
		f.Count = &f.count
	}
	f.Status.Phase = engine.CanonicalPhase(f.Status.Phase)
	return &f.Member
}

// filedMember keeps a member's index and count beside it. The engine reads them, and the
// phase, for every member of a sequence on every reconcile: read through the cached
// command's own fields, and the decoded phase string, a pass over a long sequence waits on
// memory for most of its time.
type filedMember struct {
	index, count int // first: in the cache line of the member's own first fields
	engine.Member
}

// indexing keeps the member index current from the command watch, then hands the event on:
// a unit is queued only once the index shows the change that queued it.
type indexing struct {
	index *memberIndex
	next  oldestFirst
}

var _ handler.EventHandler = indexing{}

func (h indexing) Create(ctx context.Context, e event.CreateEvent, q requestQueue) {
	if cmd, ok := e.Object.(*batonv1.OperatorCommand); ok {
		h.index.put(cmd)
	}
	h.next.Create(ctx, e, q)
}

func (h indexing) Update(ctx context.Context, e event.UpdateEvent, q requestQueue) {
	if cmd, ok := e.ObjectNew.(*batonv1.OperatorCommand); ok {
		h.index.put(cmd)
	}
	h.next.Update(ctx, e, q)
}

func (h indexing) Delete(ctx context.Context, e event.DeleteEvent, q requestQueue) {
	if cmd, ok := e.Object.(*batonv1.OperatorCommand); ok {
		h.index.remove(cmd)
	}
	h.next.Delete(ctx, e, q)
}

func (h indexing) Generic(ctx context.Context, e event.GenericEvent, q requestQueue) {
	h.next.Generic(ctx, e, q)
}
