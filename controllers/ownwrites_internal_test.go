package controllers

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// TestOwnWritesBehind: a view is behind while it holds an older version of an object
// written here; a write it shows (or overtook), an object it no longer holds and a version
// that cannot be compared are forgotten. The sequence created here that the cache does
// not show yet is waited for, neither stale nor shown. Units are apart, and a forgotten
// unit has nothing left to be behind on.
func TestOwnWritesBehind(t *testing.T) {
	u, other := unit{namespace: "ns", index: "seq:a"}, unit{namespace: "ns", index: "seq:b"}
	obj := func(uid, rv string) client.Object {
		return &batonv1.OperatorCommand{ObjectMeta: metav1.ObjectMeta{UID: types.UID(uid), ResourceVersion: rv}}
	}
	view := func(objs ...client.Object) func(types.UID) client.Object {
		return func(uid types.UID) client.Object {
			for _, o := range objs {
				if o.GetUID() == uid {
					return o
				}
			}
			return nil
		}
	}
	var o units
	o.wrote(u, obj("a", "100"))
	o.wrote(u, obj("b", "99"))
	o.wrote(u, obj("f", "50"))
	o.wrote(other, obj("c", "200"))

	steps := []struct {
		what string
		unit unit
		view func(types.UID) client.Object
		want []types.UID
	}{
		{"b and f older than written, a as written", u, view(obj("a", "100"), obj("b", "98"), obj("f", "7")), []types.UID{"b", "f"}},
		{"a, shown once, is forgotten; b still behind; f overtaken", u, view(obj("a", "1"), obj("b", "98"), obj("f", "51")), []types.UID{"b"}},
		{"b overtaken", u, view(obj("a", "1"), obj("b", "120")), nil},
		{"every write forgotten once shown", u, view(obj("a", "1"), obj("b", "1"), obj("f", "1")), nil},
		{"another unit's write is its own", other, view(obj("c", "150")), []types.UID{"c"}},
	}
	for _, st := range steps {
		got := o.behind(st.unit, st.view)
		slices.Sort(got)
		if !slices.Equal(got, st.want) {
			t.Errorf("%s: behind on %v, want %v", st.what, got, st.want)
		}
	}
	o.wrote(u, obj("d", "300"))
	o.wrote(u, obj("e", "not-a-number"))
	if got := o.behind(u, view(obj("e", "299"))); got != nil {
		t.Errorf("an object gone from the view, or a version that cannot be compared, is waited for: %v", got)
	}

	// The sequence created here, not in the cache yet: the view cannot tell.
	created := &batonv1.CommandSequence{ObjectMeta: metav1.ObjectMeta{UID: "s", ResourceVersion: "400"}}
	o.wrote(u, created)
	o.with(u, func(st *unitState) { st.created = created })
	if got := o.behind(u, view()); got != nil {
		t.Errorf("a sequence the cache does not show yet: behind on %v, want none", got)
	}
	o.with(u, func(st *unitState) { st.created = nil }) // the cache shows it
	if got := o.behind(u, view(obj("s", "399"))); !slices.Equal(got, []types.UID{"s"}) {
		t.Errorf("once the view shows an older version: behind on %v, want [s]", got)
	}
	o.forget(u)
	if got := o.behind(u, view(obj("s", "399"))); got != nil {
		t.Errorf("after forget: behind on %v, want none", got)
	}
	if !slices.Equal(o.behind(other, view(obj("c", "150"))), []types.UID{"c"}) {
		t.Error("forgetting a unit forgot another's writes")
	}
}
