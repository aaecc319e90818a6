package steps_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/batonhq/baton/steps"
)

func TestRetryable(t *testing.T) {
	base := fs.ErrNotExist
	cases := map[string]struct {
		err       error
		retryable bool
	}{
		"nil":                        {nil, false},
		"plain error is permanent":   {base, false},
		"marked":                     {steps.Retryable(base), true},
		"marked then wrapped":        {fmt.Errorf("fetching: %w", steps.Retryable(base)), true},
		"marked twice":               {steps.Retryable(steps.Retryable(base)), true},
		"joined with a marked error": {errors.Join(base, steps.Retryable(context.DeadlineExceeded)), true},
		"context error is permanent": {context.Canceled, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := steps.IsRetryable(tc.err); got != tc.retryable {
				t.Fatalf("IsRetryable(%v) = %v, want %v", tc.err, got, tc.retryable)
			}
		})
	}
}

func TestRetryableKeepsTheWrappedError(t *testing.T) {
	err := fmt.Errorf("step: %w", steps.Retryable(fs.ErrNotExist))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("errors.Is does not see through Retryable")
	}
	if !errors.Is(err, steps.ErrRetryable) {
		t.Fatal("errors.Is(err, ErrRetryable) is false")
	}
	var marked *steps.RetryableError
	if !errors.As(err, &marked) || marked.Err != fs.ErrNotExist {
		t.Fatalf("errors.As found %v", marked)
	}
	if got, want := err.Error(), "step: "+fs.ErrNotExist.Error(); got != want {
		t.Fatalf("message %q, want %q: the mark must not change it", got, want)
	}
	if steps.Retryable(nil) != nil {
		t.Fatal("Retryable(nil) is not nil")
	}
}
