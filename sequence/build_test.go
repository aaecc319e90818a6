package sequence

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

func TestBuildRefuses(t *testing.T) {
	cases := map[string]struct {
		file    string
		opts    Options
		wantErr string
	}{
		"no steps":          {file: "sequence: s\nsteps: []\n", wantErr: "the sequence has no steps"},
		"no type":           {file: "sequence: s\nsteps:\n- name: a\n", wantErr: "step 0 (a): type is required"},
		"duplicate names":   {file: "sequence: s\nsteps:\n- {name: a, type: noop}\n- {name: a, type: noop}\n", wantErr: `steps 0 and 1 are both named "a"`},
		"bad name":          {file: "sequence: s\nsteps:\n- {name: A_b, type: noop}\n", wantErr: `name "A_b" is not a valid object name`},
		"bad key":           {file: "sequence: 'a b'\nsteps:\n- {type: noop}\n", wantErr: `sequence "a b" cannot be the label kubescape.io/sequence`},
		"negative retries":  {file: "sequence: s\nsteps:\n- {type: noop, retries: -1}\n", wantErr: "retries -1 is negative"},
		"bad ttl":           {file: "sequence: s\nsteps:\n- {type: noop, ttl: soon}\n", wantErr: "ttl"},
		"bad executor":      {file: "sequence: s\nsteps:\n- {type: noop}\n", opts: Options{Executor: "not valid!"}, wantErr: `executor "not valid!"`},
		"unknown field":     {file: "sequence: s\nsteps:\n- {type: noop, retry: 2}\n", wantErr: `unknown field "retry"`},
		"negative batch":    {file: "sequence: s\nsteps:\n- {type: noop, batch: -1}\n", wantErr: "batch -1 is negative"},
		"negative file ttl": {file: "sequence: s\nttl: -5s\nsteps:\n- {type: noop}\n", wantErr: "ttl -5s is negative"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Parse([]byte(tc.file))
			if err == nil {
				_, err = Build(f, tc.opts)
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

// TestBuildStepNames: every command carries its step name in kubescape.io/step, named or
// not, so `steps[...]` keeps finding it when a retry renames the objects.
func TestBuildStepNames(t *testing.T) {
	f, err := Parse([]byte("sequence: s\nsteps:\n- {name: fetch, type: noop}\n- {type: noop, when: 'steps.fetch.phase == \"Succeeded\"'}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := Build(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range cmds {
		got[c.Name] = c.Annotations[batonv1.AnnotationStep]
	}
	if diff := cmp.Diff(map[string]string{"fetch": "fetch", "s-1": "s-1"}, got); diff != "" {
		t.Errorf("step annotations by command (-want +got):\n%s", diff)
	}
}
