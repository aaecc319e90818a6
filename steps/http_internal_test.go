package steps

import (
	"net/url"
	"testing"
)

func TestHostPolicy(t *testing.T) {
	policy, err := newHostPolicy([]string{"*.example.com", " API.internal ", "127.0.0.1", "::1", ""})
	if err != nil {
		t.Fatalf("newHostPolicy: %v", err)
	}
	cases := map[string]struct {
		url     string
		allowed bool
	}{
		"subdomain":                 {"https://a.example.com/x", true},
		"deeper subdomain":          {"https://a.b.example.com/x", true},
		"apex is not a subdomain":   {"https://example.com/", false},
		"suffix trick":              {"https://evil-example.com/", false},
		"suffix with a dot trick":   {"https://a.example.com.evil.net/", false},
		"pattern is case-folded":    {"http://api.internal/", true},
		"host is case-folded":       {"http://API.INTERNAL/", true},
		"port is not matched":       {"http://127.0.0.1:8080/", true},
		"ipv6 loopback":             {"http://[::1]:9000/", true},
		"other ip":                  {"http://169.254.169.254/latest/meta-data", false},
		"userinfo does not fool it": {"http://a.example.com@169.254.169.254/", false},
		"scheme must be http(s)":    {"gopher://a.example.com/", false},
		"empty pattern allows none": {"http://localhost/", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if err := policy.check(u); (err == nil) != tc.allowed {
				t.Fatalf("check(%s) = %v, want allowed=%v", tc.url, err, tc.allowed)
			}
		})
	}
}

func TestTrimPartialRune(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"ascii":          {"abc", "abc"},
		"complete":       {"aé", "aé"},
		"cut two-byte":   {"a\xc3", "a"},
		"cut three-byte": {"a\xe2\x82", "a"},
		"empty":          {"", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := string(trimPartialRune([]byte(tc.in))); got != tc.want {
				t.Fatalf("trimPartialRune(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
