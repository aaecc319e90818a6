package steps

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// errHostNotAllowed is wrapped by every refusal of the http step's host policy.
var errHostNotAllowed = errors.New("host not allowed by --http-allow")

// hostPolicy is the http step's allowlist: path.Match globs on a URL's lower-case
// hostname (no port). Empty denies every host.
type hostPolicy []string

func newHostPolicy(patterns []string) (hostPolicy, error) {
	policy := make(hostPolicy, 0, len(patterns))
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("http allow pattern %q: %w", p, err)
		}
		policy = append(policy, p)
	}
	return policy, nil
}

// check returns nil when u may be requested: http or https, to an allowed hostname.
func (p hostPolicy) check(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url scheme %q: only http and https are supported", u.Scheme)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return fmt.Errorf("url %q has no host", u.Redacted())
	}
	for _, pattern := range p {
		if ok, _ := path.Match(pattern, host); ok {
			return nil
		}
	}
	return fmt.Errorf("%q: %w", host, errHostNotAllowed)
}
