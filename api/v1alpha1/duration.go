package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
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
