package steps_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/steps"
)

func TestSleep(t *testing.T) {
	start := time.Now()
	got, err := (&steps.Sleep{}).Run(context.Background(), newCommand("sleep").Arg("duration", "50ms").request(t))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Fatalf("returned after %s, before the 50ms duration", elapsed)
	}
	if diff := cmp.Diff(map[string]any{"duration": "50ms"}, normalize(t, got)); diff != "" {
		t.Fatalf("payload (-want +got):\n%s", diff)
	}
}

func TestSleepBadArgs(t *testing.T) {
	cases := map[string]struct {
		duration any
		want     string
	}{
		"missing":   {nil, "args.duration is required"},
		"malformed": {"ten seconds", "parsing args.duration"},
		"negative":  {"-1s", "negative"},
		"a number":  {10, "decoding args"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := newCommand("sleep")
			if tc.duration != nil {
				cmd.Arg("duration", tc.duration)
			}
			_, err := (&steps.Sleep{}).Run(context.Background(), cmd.request(t))
			if err == nil || !strings.Contains(err.Error(), tc.want) || steps.IsRetryable(err) {
				t.Fatalf("err = %v, want a permanent error containing %q", err, tc.want)
			}
		})
	}
}

func TestSleepCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := (&steps.Sleep{}).Run(ctx, newCommand("sleep").Arg("duration", "1h").request(t))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("took %s to notice cancellation", elapsed)
	}
}
