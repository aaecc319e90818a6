package steps_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/batonhq/baton/steps"
)

func TestEncodePayload(t *testing.T) {
	cases := map[string]struct {
		in   any
		want []byte
	}{
		"nil is no payload":       {nil, nil},
		"bytes as they are":       {[]byte("not json \x00"), []byte("not json \x00")},
		"raw JSON as it is":       {json.RawMessage(`{"a": 1}`), []byte(`{"a": 1}`)},
		"map is JSON":             {map[string]any{"b": 2, "a": "x"}, []byte(`{"a":"x","b":2}`)},
		"string is a JSON string": {"hello", []byte(`"hello"`)},
		"struct uses its tags":    {steps.ApplyResult{Objects: []steps.AppliedObject{}}, []byte(`{"objects":[]}`)},
		"number":                  {42, []byte(`42`)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := steps.EncodePayload(tc.in)
			if err != nil {
				t.Fatalf("EncodePayload: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("payload (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodePayloadError(t *testing.T) {
	if _, err := steps.EncodePayload(map[string]any{"f": func() {}}); err == nil {
		t.Fatal("a function encoded without error")
	}
}
