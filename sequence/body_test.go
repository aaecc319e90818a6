package sequence

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuildBody(t *testing.T) {
	cases := map[string]struct {
		body string // the step's body, as YAML
		want string // spec.body's bytes; "" for none
	}{
		"none":             {body: "", want: ""},
		"string as bytes":  {body: "body: 'plain text, not JSON'", want: "plain text, not JSON"},
		"JSON in a string": {body: `body: '{"commandName":"scan"}'`, want: `{"commandName":"scan"}`},
		"map as JSON":      {body: "body: {commandName: scan, args: {depth: 2, ids: [1, 2]}}", want: `{"args":{"depth":2,"ids":[1,2]},"commandName":"scan"}`},
		"list as JSON":     {body: "body: [a, 1, true]", want: `["a",1,true]`},
		"number as JSON":   {body: "body: 42", want: "42"},
		"big integer kept": {body: "body: {id: 1234567890123456789}", want: `{"id":1234567890123456789}`},
		"bool as JSON":     {body: "body: false", want: "false"},
		"quoted number":    {body: `body: "42"`, want: "42"},
		"empty string":     {body: `body: ""`, want: ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Parse([]byte("sequence: s\nsteps:\n- type: OperatorAPI\n  " + tc.body + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			cmds, err := Build(f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(cmds[0].Spec.Body)); diff != "" {
				t.Errorf("spec.body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildBodyFromGo(t *testing.T) {
	cases := map[string]struct {
		body any
		want string
	}{
		"bytes as they are": {body: []byte{0xff, 0x00}, want: "\xff\x00"},
		"raw JSON as it is": {body: json.RawMessage(`{"a": 1}`), want: `{"a": 1}`},
		"struct as its JSON": {body: struct {
			CommandName string `json:"commandName"`
		}{"scan"}, want: `{"commandName":"scan"}`},
		"string as its bytes": {body: "scan", want: "scan"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cmds, err := Build(&File{Sequence: "s", Steps: []Step{{Type: "OperatorAPI", Body: tc.body}}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(cmds[0].Spec.Body)); diff != "" {
				t.Errorf("spec.body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildBodyRefused(t *testing.T) {
	_, err := Build(&File{Sequence: "s", Steps: []Step{{Type: "OperatorAPI", Body: func() {}}}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "step 0 (OperatorAPI): body:") {
		t.Errorf("a body with no JSON form: error = %v, want it to say which step's body", err)
	}
}

// TestArgsKeepDigits: the submit file's numbers are read as json.Number, so args keep a
// 64-bit integer exactly.
func TestArgsKeepDigits(t *testing.T) {
	f, err := Parse([]byte("sequence: s\nsteps:\n- {type: noop, args: {id: 1234567890123456789, ratio: 0.5}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := Build(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(cmds[0].Spec.Args)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"id":1234567890123456789,"ratio":0.5}`, string(data)); diff != "" {
		t.Errorf("spec.args (-want +got):\n%s", diff)
	}
}
