package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/steps"
)

func TestNoop(t *testing.T) {
	cases := map[string]struct {
		cmd     *commandBuilder
		want    any
		wantErr string
	}{
		"echoes args": {
			cmd:  newCommand("noop").Arg("greeting", "hi").Arg("nested", map[string]any{"n": 1.0}),
			want: map[string]any{"greeting": "hi", "nested": map[string]any{"n": 1.0}},
		},
		"no args is an empty object": {cmd: newCommand("noop"), want: map[string]any{}},
		"fail with a message":        {cmd: newCommand("noop").Arg("fail", "boom"), wantErr: "boom"},
		"fail true":                  {cmd: newCommand("noop").Arg("fail", true), wantErr: "noop: failed as args.fail asked"},
		"fail false echoes":          {cmd: newCommand("noop").Arg("fail", false), want: map[string]any{"fail": false}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := (&steps.Noop{}).Run(context.Background(), tc.cmd.request(t))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || steps.IsRetryable(err) {
					t.Fatalf("err = %v, want permanent %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(tc.want, normalize(t, got)); diff != "" {
				t.Fatalf("payload (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNoopCancelled(t *testing.T) {
	_, err := (&steps.Noop{}).Run(cancelled(), newCommand("noop").request(t))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// fataler is what normalize needs of a *testing.T or GinkgoT().
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// normalize returns the payload as the engine stores it and a reader decodes it.
func normalize(t fataler, payload any) any {
	t.Helper()
	data, err := steps.EncodePayload(payload)
	if err != nil {
		t.Fatalf("EncodePayload: %v", err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	return out
}
