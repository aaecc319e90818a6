package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	kjson "sigs.k8s.io/json"
)

// Duration is spec.ttl: on the wire it is what Go's time.Duration marshals to, int64
// nanoseconds, which is what clients built on the upstream kubescape/backend type send and
// expect. For kubectl users it also accepts a duration string ("90s", "5m"); baton rewrites
// such a string to nanoseconds on first sight, and always marshals nanoseconds.
type Duration time.Duration

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// MarshalJSON writes int64 nanoseconds, as time.Duration does.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(int64(d))
}

// UnmarshalJSON reads int64 nanoseconds or a Go duration string.
func (d *Duration) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		*d = 0
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		parsed, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("ttl %q: %w", s, err)
		}
		*d = Duration(parsed)
		return nil
	}
	var n int64
	if err := json.Unmarshal(data, &n); err != nil {
		// A float such as 3e10 is still a whole number of nanoseconds to a JSON client.
		var f float64
		if ferr := json.Unmarshal(data, &f); ferr != nil || f != float64(int64(f)) {
			return fmt.Errorf("ttl must be int64 nanoseconds or a duration string: %w", err)
		}
		n = int64(f)
	}
	*d = Duration(n)
	return nil
}

// UnmarshalJSON decodes the spec as the API server's decoder would (case-sensitive, integers
// kept as int64) and notes whether spec.ttl arrived as a duration string, so that baton can
// rewrite it without reading the object again.
func (s *OperatorCommandSpec) UnmarshalJSON(data []byte) error {
	type plain OperatorCommandSpec
	aux := struct {
		*plain
		TTL json.RawMessage `json:"ttl,omitempty"`
	}{plain: (*plain)(s)}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &aux); err != nil {
		return err
	}
	s.TTL, s.TTLIsString = 0, false
	if len(aux.TTL) == 0 {
		return nil
	}
	s.TTLIsString = aux.TTL[0] == '"'
	return s.TTL.UnmarshalJSON(aux.TTL)
}
