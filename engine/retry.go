package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// Defaults for the options whose zero value cannot mean "none".
const (
	DefaultRetryBaseDelay  = time.Second
	DefaultRetryMaxDelay   = 5 * time.Minute
	DefaultMaxPayloadBytes = 256 << 10
	DefaultReportMaxBytes  = 256 << 10
)

const (
	// MaxRetries is the largest kubescape.io/retries accepted.
	MaxRetries = 100
	// MaxExecutorLosses bounds re-runs of an idempotent handler whose executor was lost,
	// beyond its attempts: a handler that kills its executor must not loop forever.
	MaxExecutorLosses = 3
)

// ReasonError is an error carrying the reason to write to status.error.reason.
type ReasonError struct {
	Reason  string
	Message string
}

func (e *ReasonError) Error() string { return e.Reason + ": " + e.Message }

// Retries reads kubescape.io/retries: absent is 0; otherwise a decimal integer from 0 to
// MaxRetries, else an InvalidRetries error.
func Retries(annotations map[string]string) (int, error) {
	v, ok := annotations[batonv1.AnnotationRetries]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > MaxRetries {
		return 0, &ReasonError{Reason: batonv1.ReasonInvalidRetries, Message: fmt.Sprintf(
			"annotation %s must be an integer from 0 to %d, got %q", batonv1.AnnotationRetries, MaxRetries,
			clipTo(v, 100))}
	}
	return n, nil
}

// maxAttempts is 1 + retries, or fails the member when the annotation is invalid.
func (d *decision) maxAttempts(ms *memberState) (int, bool) {
	n, err := Retries(ms.m.Annotations)
	if err != nil {
		d.finish(ms, batonv1.CommandFailed, batonv1.ReasonInvalidRetries, err.(*ReasonError).Message)
		return 0, false
	}
	return n + 1, true
}

// RetryDelay is the pause after failed attempt number attempt (1 for the first) before the
// next: RetryBaseDelay doubled per attempt, capped at RetryMaxDelay. Zero options take the
// defaults (1s, 5m).
func RetryDelay(opts Options, attempt int) time.Duration {
	base, limit := opts.RetryBaseDelay, opts.RetryMaxDelay
	if base <= 0 {
		base = DefaultRetryBaseDelay
	}
	if limit <= 0 {
		limit = DefaultRetryMaxDelay
	}
	if base >= limit {
		return limit
	}
	delay := base
	for i := 1; i < attempt; i++ {
		if delay >= limit/2 {
			return limit
		}
		delay *= 2
	}
	return delay
}

// RetryFits reports whether another attempt after failed attempt number attempt would
// start before deadline (zero: no deadline). Retries never run past the TTL.
func RetryFits(opts Options, attempt int, now, deadline time.Time) bool {
	return deadline.IsZero() || now.Add(RetryDelay(opts, attempt)).Before(deadline)
}

// CheckPayload refuses a payload over MaxPayloadBytes (zero: DefaultMaxPayloadBytes) with
// a PayloadTooLarge ReasonError, so the step fails instead of its status write.
func CheckPayload(opts Options, payload []byte) error {
	limit := opts.MaxPayloadBytes
	if limit <= 0 {
		limit = DefaultMaxPayloadBytes
	}
	if int64(len(payload)) <= limit {
		return nil
	}
	return &ReasonError{Reason: batonv1.ReasonPayloadTooLarge, Message: fmt.Sprintf(
		"payload is %d bytes, over the limit of %d (--max-payload-bytes)", len(payload), limit)}
}
