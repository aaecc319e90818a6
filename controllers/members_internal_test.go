package controllers

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
	"github.com/batonhq/baton/engine"
	"github.com/batonhq/baton/steps"
)

// indexed is a command for the member index: a member of sequence seq at index, or a
// standalone command when seq is empty.
func indexed(name, seq string, index int) *batonv1.OperatorCommand {
	cmd := &batonv1.OperatorCommand{ObjectMeta: metav1.ObjectMeta{
		Namespace: "ns", Name: name, UID: types.UID("uid-" + name),
	}}
	if seq != "" {
		cmd.Labels = map[string]string{batonv1.LabelSequence: seq}
		cmd.Spec.CommandIndex, cmd.Spec.CommandCount = &index, ptr.To(100)
	}
	return cmd
}

// decidedAlike fails t when the view's summary changes what the engine decides: the index
// keeps its rosters in step with its commands through every move.
func decidedAlike(t *testing.T, v unitView) {
	t.Helper()
	read := engine.Snapshot{Namespace: "ns", Key: "a", Members: v.members}
	summarised := read
	summarised.Summary = v.summary
	now := time.Now()
	if diff := cmp.Diff(engine.Decide(read, engine.Options{}, now), engine.Decide(summarised, engine.Options{}, now)); diff != "" {
		t.Errorf("the view's summary changes the plan (-every member read +summarised):\n%s", diff)
	}
}

func names(v unitView) []string {
	var out []string
	for i, c := range v.cmds {
		if v.members[i].Name != c.Name {
			return []string{fmt.Sprintf("member %d is %s, its command %s", i, v.members[i].Name, c.Name)}
		}
		out = append(out, c.Name)
	}
	return out
}

// TestMemberIndexOrder: however commands arrive, change and leave, each unit lists exactly
// its commands, in the engine's report order, each with its engine view.
func TestMemberIndexOrder(t *testing.T) {
	x := newMemberIndex(steps.NewRegistry(), engine.Options{})
	seq := unit{namespace: "ns", index: sequencePrefix + "a", key: "a"}
	var cmds []*batonv1.OperatorCommand
	for i := range 60 {
		cmds = append(cmds, indexed(fmt.Sprintf("m%02d", i), "a", i/3))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, i := range rng.Perm(len(cmds)) {
		x.put(cmds[i])
	}
	var want []string
	for _, c := range cmds {
		want = append(want, c.Name)
	}
	if diff := cmp.Diff(want, names(x.members(seq))); diff != "" {
		t.Fatalf("order after arrival (-want +got):\n%s", diff)
	}
	decidedAlike(t, x.members(seq))

	// A status change replaces the member in place; the view shows the new status.
	for i := range 8 {
		done := cmds[i].DeepCopy()
		done.Status.Completed, done.Status.Phase = true, batonv1.CommandSucceeded
		x.put(done)
		cmds[i] = done
	}
	v := x.members(seq)
	if i, ok := v.find(cmds[7].UID); !ok || v.cmds[i] != cmds[7] || !v.members[i].Status.Completed {
		t.Errorf("the updated command: found %t at %d, want the new object with its status", ok, i)
	}
	decidedAlike(t, v)

	// A new commandIndex moves the member; a new sequence key moves it to another unit.
	moved := cmds[0].DeepCopy()
	moved.Spec.CommandIndex = ptr.To(50)
	x.put(moved)
	left := cmds[1].DeepCopy()
	left.Labels[batonv1.LabelSequence] = "b"
	x.put(left)
	x.remove(cmds[2])
	want = slices.Concat(want[3:], []string{"m00"})
	if diff := cmp.Diff(want, names(x.members(seq))); diff != "" {
		t.Errorf("order after moves and a deletion (-want +got):\n%s", diff)
	}
	decidedAlike(t, x.members(seq))
	other := unit{namespace: "ns", index: sequencePrefix + "b", key: "b"}
	if diff := cmp.Diff([]string{"m01"}, names(x.members(other))); diff != "" {
		t.Errorf("the relabelled command's new unit (-want +got):\n%s", diff)
	}

	// A command recreated under a deleted one's name, its deletion never seen, replaces it.
	again := indexed("m03", "a", 1)
	again.UID = "uid-m03-again"
	x.put(again)
	if _, ok := x.members(seq).find(cmds[3].UID); ok {
		t.Error("the replaced command is still found")
	}
	if i, ok := x.members(seq).find(again.UID); !ok || x.members(seq).cmds[i] != again {
		t.Error("the command that replaced it is not found")
	}
	decidedAlike(t, x.members(seq))

	for _, c := range cmds {
		x.remove(c)
	}
	x.remove(again)
	x.remove(left)
	if len(x.units) != 0 || len(x.where) != 0 {
		t.Errorf("index not empty after every command left: %d units, %d commands", len(x.units), len(x.where))
	}
}

// TestMemberIndexFindsStaleView: a command filed under another key after a reconcile took
// its view is still found in that view, so it is not taken for deleted.
func TestMemberIndexFindsStaleView(t *testing.T) {
	x := newMemberIndex(steps.NewRegistry(), engine.Options{})
	seq := unit{namespace: "ns", index: sequencePrefix + "a", key: "a"}
	for i := range 10 {
		x.put(indexed(fmt.Sprintf("m%d", i), "a", i))
	}
	v := x.members(seq)
	moved := indexed("m4", "a", 40)
	x.put(moved)
	if i, ok := v.find(moved.UID); !ok || v.cmds[i].Name != "m4" {
		t.Errorf("the moved command in the older view: found %t at %d", ok, i)
	}
	if v.lookup("no-such-uid") != nil {
		t.Error("an unknown command was found")
	}
}

// TestMemberIndexMember: the engine view carries what the engine reads, and whether a
// handler is registered here.
func TestMemberIndexMember(t *testing.T) {
	reg := steps.NewRegistry()
	if err := reg.Register("noop", "", &steps.Noop{}); err != nil {
		t.Fatal(err)
	}
	cmd := indexed("m0", "a", 2)
	cmd.Spec.CommandType = "noop"
	cmd.Annotations = map[string]string{batonv1.AnnotationWhen: "true"}
	cmd.Status.Phase = batonv1.CommandPhase(string([]byte("Running"))) // as decoded: bytes of its own
	m := memberOf(cmd, reg)
	want := engine.Member{Name: "m0", Labels: cmd.Labels, Annotations: cmd.Annotations, CommandType: "noop",
		Index: cmd.Spec.CommandIndex, Count: cmd.Spec.CommandCount, Status: cmd.Status,
		HasHandler: true, Idempotent: true, IgnoresSteps: true}
	if diff := cmp.Diff(want, *m); diff != "" {
		t.Errorf("member (-want +got):\n%s", diff)
	}
	if m.Index == cmd.Spec.CommandIndex || m.Count == cmd.Spec.CommandCount {
		t.Error("the member's index and count point into the cached command, not beside the member")
	}
	if unsafe.StringData(string(m.Status.Phase)) != unsafe.StringData(string(batonv1.CommandRunning)) {
		t.Error("the member's phase is the decoded string, not the package constant")
	}
}

// TestMemberIndexStringTTLs: a unit counts its commands whose spec.ttl is a duration string
// as they come, change and go, so a reconcile skips the rewrite pass when there are none.
func TestMemberIndexStringTTLs(t *testing.T) {
	x := newMemberIndex(steps.NewRegistry(), engine.Options{})
	seq := unit{namespace: "ns", index: sequencePrefix + "a", key: "a"}
	withString := func(cmd *batonv1.OperatorCommand) *batonv1.OperatorCommand {
		cmd.Spec.TTLIsString = true
		return cmd
	}
	steps := []struct {
		do   func()
		want int
	}{
		{func() { x.put(withString(indexed("m0", "a", 0))) }, 1},
		{func() { x.put(withString(indexed("m1", "a", 1))) }, 2},
		{func() { x.put(indexed("m2", "a", 2)) }, 2},
		{func() { x.put(indexed("m0", "a", 0)) }, 1},             // rewritten
		{func() { x.put(withString(indexed("m1", "a", 5))) }, 1}, // moved within the unit
		{func() { x.remove(indexed("m1", "a", 5)) }, 0},
	}
	for i, s := range steps {
		s.do()
		if got := x.members(seq).stringTTLs; got != s.want {
			t.Errorf("after step %d: %d string TTLs, want %d", i, got, s.want)
		}
	}
}
