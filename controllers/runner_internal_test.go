package controllers

import (
	"context"
	"testing"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
)

// TestRunnerSettles: the jobs of commands that were deleted before the next reconcile are
// dropped and their handlers' contexts end; those of commands seen completed are dropped,
// with their contexts left alone when claimed (their handlers are done), ended when not (a
// quick step's command completed by a cancel or its TTL: its result would be dropped);
// the others stay.
func TestRunnerSettles(t *testing.T) {
	mem := &units{}
	r := newRunner(nil, mem, nil, nil, clock.RealClock{}, engine.Options{}, "test", 1, 0, logr.Discard())
	u := unit{namespace: "ns", index: "seq:a", key: "a"}
	hold := func(uid types.UID, claimed bool) context.Context {
		ctx, cancel := context.WithCancelCause(context.Background())
		mem.with(u, func(st *unitState) {
			if st.jobs == nil {
				st.jobs = map[types.UID]*job{}
			}
			st.jobs[uid] = &job{claimed: claimed, cancel: cancel}
		})
		return ctx
	}
	commands := func(cmds ...batonv1.OperatorCommand) func(types.UID) *batonv1.OperatorCommand {
		return func(uid types.UID) *batonv1.OperatorCommand {
			for i := range cmds {
				if cmds[i].UID == uid {
					return &cmds[i]
				}
			}
			return nil
		}
	}
	command := func(uid types.UID, completed bool) batonv1.OperatorCommand {
		return batonv1.OperatorCommand{ObjectMeta: metav1.ObjectMeta{UID: uid},
			Status: batonv1.OperatorCommandStatus{Completed: completed}}
	}
	goneCtx, doneCtx, keptCtx := hold("gone", true), hold("done", true), hold("kept", false)
	elsewhereCtx := hold("elsewhere", false)

	r.settle(u, commands(command("kept", false), command("done", true), command("elsewhere", true), command("other", false)))
	if _, held := r.holding(u)["gone"]; held {
		t.Error("a deleted command is still held")
	}
	if context.Cause(goneCtx) != errCommandGone {
		t.Errorf("the deleted command's handler context: cause %v, want %v", context.Cause(goneCtx), errCommandGone)
	}
	if _, held := r.holding(u)["done"]; held {
		t.Error("a completed command is still held")
	}
	if doneCtx.Err() != nil {
		t.Error("the completed command's handler context was cancelled")
	}
	if _, held := r.holding(u)["elsewhere"]; held {
		t.Error("a command completed while unclaimed is still held")
	}
	if context.Cause(elsewhereCtx) != errCompletedElsewhere {
		t.Errorf("the unclaimed completed command's handler context: cause %v, want %v", context.Cause(elsewhereCtx), errCompletedElsewhere)
	}
	if claimed, held := r.holding(u)["kept"]; !held || claimed {
		t.Errorf("the remaining command: held %t claimed %t, want held, not claimed", held, claimed)
	}
	if keptCtx.Err() != nil {
		t.Error("the remaining command's handler context ended")
	}

	r.settle(u, commands())
	if len(mem.byID) != 0 {
		t.Errorf("the unit is remembered after every command went: %v", mem.byID)
	}
}
