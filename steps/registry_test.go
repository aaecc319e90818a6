package steps_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/steps"
)

// named is a handler that returns its name, so a test can tell which one Lookup found.
type named string

func (n named) Run(context.Context, steps.Request) (any, error) { return string(n), nil }

type idempotentHandler struct{ named }

func (idempotentHandler) Idempotent() bool { return true }

type notIdempotentHandler struct{ named }

func (notIdempotentHandler) Idempotent() bool { return false }

func TestRegistryLookup(t *testing.T) {
	r := steps.NewRegistry()
	for _, reg := range []struct{ typ, version, name string }{
		{"scan", "", "scan-any"},
		{"scan", "v2", "scan-v2"},
		{"only-v1", "v1", "only-v1"},
	} {
		if err := r.Register(reg.typ, reg.version, named(reg.name)); err != nil {
			t.Fatalf("Register(%q, %q): %v", reg.typ, reg.version, err)
		}
	}
	cases := map[string]struct {
		typ, version string
		want         string // "" means not found
	}{
		"exact version wins":            {"scan", "v2", "scan-v2"},
		"unknown version falls back":    {"scan", "v3", "scan-any"},
		"empty version finds any":       {"scan", "", "scan-any"},
		"versioned only, exact":         {"only-v1", "v1", "only-v1"},
		"versioned only, other version": {"only-v1", "v2", ""},
		"versioned only, empty version": {"only-v1", "", ""},
		"unknown type is external":      {"kubescape-scan", "", ""},
		"type match is case-sensitive":  {"Scan", "", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h, ok := r.Lookup(tc.typ, tc.version)
			if tc.want == "" {
				if ok || h != nil {
					t.Fatalf("Lookup(%q, %q) = %v, %v; want no handler", tc.typ, tc.version, h, ok)
				}
				return
			}
			if !ok || h != named(tc.want) {
				t.Fatalf("Lookup(%q, %q) = %v, %v; want %s", tc.typ, tc.version, h, ok, tc.want)
			}
		})
	}
}

// TestRegistryVersions: the versions with a handler of their own, sorted, for a type; none
// for an unknown type or a nil registry.
func TestRegistryVersions(t *testing.T) {
	r := steps.NewRegistry()
	r.MustRegister("scan", "v2", named("scan-v2"))
	r.MustRegister("scan", "v1", named("scan-v1"))
	r.MustRegister("any", "", named("any"))
	for typ, want := range map[string][]string{"scan": {"v1", "v2"}, "any": {""}, "unknown": nil} {
		if diff := cmp.Diff(want, r.Versions(typ)); diff != "" {
			t.Errorf("Versions(%q) (-want +got):\n%s", typ, diff)
		}
	}
	var none *steps.Registry
	if got := none.Versions("scan"); got != nil {
		t.Errorf("a nil registry's versions: %v", got)
	}
}

func TestRegistryRegisterErrors(t *testing.T) {
	r := steps.NewRegistry()
	if err := r.Register("scan", "v1", named("a")); err != nil {
		t.Fatalf("first Register: %v", err)
	}
	cases := map[string]struct {
		typ, version string
		h            steps.Handler
	}{
		"duplicate type and version": {"scan", "v1", named("b")},
		"empty type":                 {"", "", named("c")},
		"nil handler":                {"other", "", nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := r.Register(tc.typ, tc.version, tc.h); err == nil {
				t.Fatalf("Register(%q, %q) succeeded; want an error", tc.typ, tc.version)
			}
		})
	}
	if h, _ := r.Lookup("scan", "v1"); h != named("a") {
		t.Fatalf("a refused duplicate replaced the first handler: got %v", h)
	}
	if err := r.Register("scan", "", named("any")); err != nil {
		t.Fatalf("registering the any-version handler beside v1: %v", err)
	}
}

func TestRegistryMustRegisterPanicsOnDuplicate(t *testing.T) {
	r := steps.NewRegistry()
	r.MustRegister("scan", "", named("a"))
	defer func() {
		if recover() == nil {
			t.Fatal("MustRegister of a duplicate did not panic")
		}
	}()
	r.MustRegister("scan", "", named("b"))
}

func TestRegistryNilLookup(t *testing.T) {
	var r *steps.Registry
	if h, ok := r.Lookup("noop", ""); ok || h != nil {
		t.Fatalf("nil registry found %v", h)
	}
}

// TestRegistryConcurrentLookup is meaningful under -race: lookups run beside registrations.
func TestRegistryConcurrentLookup(t *testing.T) {
	r := steps.NewRegistry()
	r.MustRegister("base", "", named("base"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r.MustRegister(fmt.Sprintf("type-%d", i), "", named("x"))
		}()
		go func() {
			defer wg.Done()
			for range 100 {
				if h, ok := r.Lookup("base", "v9"); !ok || h != named("base") {
					t.Errorf("Lookup(base) = %v, %v", h, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		if _, ok := r.Lookup(fmt.Sprintf("type-%d", i), ""); !ok {
			t.Errorf("type-%d lost", i)
		}
	}
}

func TestIsIdempotent(t *testing.T) {
	cases := map[string]struct {
		h    steps.Handler
		want bool
	}{
		"no capability":          {named("x"), false},
		"declares true":          {idempotentHandler{}, true},
		"declares false":         {notIdempotentHandler{}, false},
		"noop":                   {&steps.Noop{}, true},
		"sleep":                  {&steps.Sleep{}, true},
		"apply":                  {&steps.Apply{}, true},
		"wait":                   {&steps.Wait{}, true},
		"http is not idempotent": {&steps.HTTP{}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := steps.IsIdempotent(tc.h); got != tc.want {
				t.Fatalf("IsIdempotent = %v, want %v", got, tc.want)
			}
		})
	}
}
