package controllers

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// TestOwnWritesBehind: a view is behind while it holds an older version of an object
// written here; a write it shows (or overtook), an object it no longer holds and a version
// that cannot be compared are forgotten. Units are apart.
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
	var o ownWrites
	o.wrote(u, obj("a", "100"))
	o.wrote(u, obj("b", "99"))
	o.wrote(other, obj("c", "200"))

	if !o.behind(u, view(obj("a", "100"), obj("b", "98"))) {
		t.Error("a view holding version 98 of an object written at 99 is not behind")
	}
	if !o.behind(u, view(obj("a", "1"), obj("b", "98"))) {
		t.Error("still behind on b: a, shown once, is forgotten, but b is not")
	}
	if o.behind(u, view(obj("a", "1"), obj("b", "120"))) {
		t.Error("a view that overtook the write is behind")
	}
	if o.behind(u, view(obj("a", "1"), obj("b", "1"))) {
		t.Error("writes the view once showed are still waited for")
	}
	o.wrote(u, obj("d", "300"))
	o.wrote(u, obj("e", "not-a-number"))
	if o.behind(u, view(obj("e", "299"))) {
		t.Error("an object gone from the view, or a version that cannot be compared, is waited for")
	}
	if !o.behind(other, view(obj("c", "150"))) {
		t.Error("another unit's write was forgotten")
	}
}
