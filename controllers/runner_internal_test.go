package controllers

import (
	"context"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/batonhq/baton/engine"
)

// TestRunnerForgetsCommandsGone: the jobs of commands that were deleted before the next
// reconcile are dropped, and their handlers' contexts end; the others stay.
func TestRunnerForgetsCommandsGone(t *testing.T) {
	r := newRunner(nil, nil, nil, clock.RealClock{}, engine.Options{}, "test", 1, logr.Discard())
	u := unit{namespace: "ns", index: "seq:a", key: "a"}
	hold := func(uid types.UID, claimed bool) context.Context {
		ctx, cancel := context.WithCancelCause(context.Background())
		if r.jobs[u.id()] == nil {
			r.jobs[u.id()] = map[types.UID]*job{}
		}
		r.jobs[u.id()][uid] = &job{claimed: claimed, cancel: cancel}
		return ctx
	}
	goneCtx, keptCtx := hold("gone", true), hold("kept", false)

	r.forgetGone(u, map[types.UID]bool{"kept": true})
	if held, _ := r.holds(u, "gone"); held {
		t.Error("a deleted command is still held")
	}
	if context.Cause(goneCtx) != errCommandGone {
		t.Errorf("the deleted command's handler context: cause %v, want %v", context.Cause(goneCtx), errCommandGone)
	}
	if held, claimed := r.holds(u, "kept"); !held || claimed {
		t.Errorf("the remaining command: held %t claimed %t, want held, not claimed", held, claimed)
	}
	if keptCtx.Err() != nil {
		t.Error("the remaining command's handler context ended")
	}

	r.forgetGone(u, nil)
	if len(r.jobs) != 0 {
		t.Errorf("jobs left after every command went: %v", r.jobs)
	}
}
