package app

import (
	"flag"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	opts := DefaultOptions()
	opts.BindFlags(fs)
	err := fs.Parse([]string{
		"--namespace=team-a,team-b", "--namespace", "team-c",
		"--http-allow=*.example.com", "--http-allow", " 127.0.0.1 ,",
		"--default-ttl=90s", "--finished-retention=1h", "--max-concurrent-steps=3",
		"--leader-election-namespace=baton-system", "--claim-after=250ms",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultOptions()
	want.Namespaces = []string{"team-a", "team-b", "team-c"}
	want.HTTPAllow = []string{"*.example.com", "127.0.0.1"}
	want.DefaultTTL, want.FinishedRetention, want.MaxConcurrentSteps = 90*time.Second, time.Hour, 3
	want.LeaderElectionNamespace = "baton-system"
	want.ClaimAfter = 250 * time.Millisecond
	if diff := cmp.Diff(want, opts); diff != "" {
		t.Errorf("parsed options differ (-want +got):\n%s", diff)
	}
}

func TestLeaderElectionID(t *testing.T) {
	cases := map[string]struct {
		a, b     []string
		sameLock bool
	}{
		"all namespaces":                 {a: nil, b: nil, sameLock: true},
		"same set in another order":      {a: []string{"x", "y"}, b: []string{"y", "x"}, sameLock: true},
		"disjoint sets run side by side": {a: []string{"x"}, b: []string{"y"}, sameLock: false},
		"a set beside all namespaces":    {a: []string{"x"}, b: nil, sameLock: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, b := leaderElectionID(tc.a), leaderElectionID(tc.b)
			if (a == b) != tc.sameLock {
				t.Errorf("leaderElectionID(%v) = %q, leaderElectionID(%v) = %q; same lease = %v, want %v", tc.a, a, tc.b, b, a == b, tc.sameLock)
			}
		})
	}
}

func TestNamespaces(t *testing.T) {
	if got := namespaces(nil); got != nil {
		t.Errorf("namespaces(nil) = %v, want nil (watch every namespace)", got)
	}
	got := namespaces([]string{"a", "b"})
	if _, ok := got["a"]; !ok || len(got) != 2 {
		t.Errorf("namespaces([a b]) = %v, want entries for a and b", got)
	}
}
