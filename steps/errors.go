package steps

import "errors"

// ErrRetryable matches, with errors.Is, every error wrapped by [Retryable].
var ErrRetryable = errors.New("retryable")

// RetryableError marks its wrapped error as transient: the engine may run the handler
// again. Build it with [Retryable]; find it with errors.As or [IsRetryable].
type RetryableError struct {
	Err error
}

// Error is the wrapped error's message, unchanged.
func (e *RetryableError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error, so errors.Is and errors.As see through the mark.
func (e *RetryableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRetryable) true.
func (e *RetryableError) Is(target error) bool { return target == ErrRetryable }

// Retryable marks err as retryable. It returns nil for a nil err and err itself when it is
// already marked. Errors a handler returns unmarked are permanent.
func Retryable(err error) error {
	if err == nil || IsRetryable(err) {
		return err
	}
	return &RetryableError{Err: err}
}

// IsRetryable reports whether err, or any error it wraps, was marked by [Retryable].
func IsRetryable(err error) bool {
	return errors.Is(err, ErrRetryable)
}
