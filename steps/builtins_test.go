package steps_test

import (
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/batonhq/baton/internal/localcluster"
	"github.com/batonhq/baton/steps"
)

// unreachable is a config for clients that are built but never used: building one makes
// no request.
var unreachable = &rest.Config{Host: "http://127.0.0.1:1"}

func TestRegisterBuiltins(t *testing.T) {
	c, err := client.NewWithWatch(unreachable, client.Options{Scheme: localcluster.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	r := steps.NewRegistry()
	if err := steps.RegisterBuiltins(r, steps.BuiltinConfig{Client: c, HTTPAllow: []string{"*.example.com"}}); err != nil {
		t.Fatalf("RegisterBuiltins: %v", err)
	}
	want := map[string]struct{ idempotent, ignoresSteps bool }{
		steps.TypeNoop: {true, true}, steps.TypeSleep: {true, true}, steps.TypeExpr: {true, false},
		steps.TypeApply: {true, true}, steps.TypeWait: {true, true}, steps.TypeHTTP: {false, true},
	}
	for typ, caps := range want {
		h, ok := r.Lookup(typ, "any-version")
		if !ok {
			t.Errorf("%s is not registered for every version", typ)
			continue
		}
		if got := steps.IsIdempotent(h); got != caps.idempotent {
			t.Errorf("%s: idempotent = %v, want %v", typ, got, caps.idempotent)
		}
		// expr evaluates over the earlier steps; the others read only their own args.
		if got := steps.IgnoresSteps(h); got != caps.ignoresSteps {
			t.Errorf("%s: ignores earlier steps = %v, want %v", typ, got, caps.ignoresSteps)
		}
	}
}

func TestRegisterBuiltinsErrors(t *testing.T) {
	plain, err := client.New(unreachable, client.Options{Scheme: localcluster.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	watching, err := client.NewWithWatch(unreachable, client.Options{Scheme: localcluster.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		cfg      steps.BuiltinConfig
		existing string // a type registered before
		want     string
	}{
		"no client":           {cfg: steps.BuiltinConfig{}, want: "need a Kubernetes client"},
		"client cannot watch": {cfg: steps.BuiltinConfig{Client: plain}, want: "can watch"},
		"bad allow pattern":   {cfg: steps.BuiltinConfig{Client: watching, HTTPAllow: []string{"[x"}}, want: `pattern "[x"`},
		"type already taken":  {cfg: steps.BuiltinConfig{Client: watching}, existing: steps.TypeHTTP, want: `"http" (any version): already registered`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := steps.NewRegistry()
			if tc.existing != "" {
				r.MustRegister(tc.existing, "", named("mine"))
			}
			err := steps.RegisterBuiltins(r, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	// A plain client serves apply when a watching one is given for wait.
	if err := steps.RegisterBuiltins(steps.NewRegistry(), steps.BuiltinConfig{Client: plain, WatchClient: watching}); err != nil {
		t.Fatalf("separate watch client: %v", err)
	}
}
