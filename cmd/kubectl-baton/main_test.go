package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/batonhq/baton/cmd/internal/version"
)

func TestRun(t *testing.T) {
	cases := map[string]struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"no arguments prints help": {args: nil, wantCode: 0, wantStdout: "Usage:"},
		"help":                     {args: []string{"help"}, wantCode: 0, wantStdout: "kubectl baton version"},
		"version":                  {args: []string{"version"}, wantCode: 0, wantStdout: version.Version + "\n"},
		"unknown command":          {args: []string{"frobnicate"}, wantCode: 2, wantStderr: `unknown command "frobnicate"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.wantCode {
				t.Errorf("exit code = %d, want %d", code, tc.wantCode)
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}
