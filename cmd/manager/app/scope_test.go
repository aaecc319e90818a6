package app

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestScopeOf(t *testing.T) {
	cases := map[string]struct {
		names []string
		want  string
	}{
		"all namespaces":          {names: nil, want: "*"},
		"sorted":                  {names: []string{"b", "a"}, want: "a,b"},
		"duplicates counted once": {names: []string{"a", "b", "a"}, want: "a,b"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := scopeOf(tc.names); got != tc.want {
				t.Errorf("scopeOf(%v) = %q, want %q", tc.names, got, tc.want)
			}
		})
	}
}

func TestScopesOverlap(t *testing.T) {
	cases := map[string]struct {
		a, b string
		want bool
	}{
		"all and all":                   {a: "*", b: "*", want: true},
		"all overlaps a set":            {a: "*", b: "x", want: true},
		"a set overlaps all":            {a: "x,y", b: "*", want: true},
		"sets sharing a namespace":      {a: "x,y", b: "y,z", want: true},
		"disjoint sets":                 {a: "x,y", b: "z", want: false},
		"a missing scope counts as all": {a: "x", b: "", want: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := scopesOverlap(tc.a, tc.b); got != tc.want {
				t.Errorf("scopesOverlap(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestLeaseLive(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	lease := func(holder string, renewed time.Duration, seconds int32) *coordinationv1.Lease {
		return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(holder),
			RenewTime:            &metav1.MicroTime{Time: now.Add(-renewed)},
			LeaseDurationSeconds: ptr.To(seconds),
		}}
	}
	cases := map[string]struct {
		lease *coordinationv1.Lease
		want  bool
	}{
		"held and renewed within its duration": {lease: lease("pod-a", 5*time.Second, 15), want: true},
		"renewal lapsed":                       {lease: lease("pod-a", 16*time.Second, 15), want: false},
		"released (no holder)":                 {lease: lease("", time.Second, 15), want: false},
		"never held":                           {lease: &coordinationv1.Lease{}, want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := leaseLive(tc.lease, now); got != tc.want {
				t.Errorf("leaseLive = %v, want %v", got, tc.want)
			}
		})
	}
}
