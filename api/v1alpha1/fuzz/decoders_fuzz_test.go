package fuzz

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// FuzzDurationUnmarshalJSON feeds spec.ttl arbitrary JSON: it never panics, and whatever it
// accepts marshals to int64 nanoseconds that read back to the same value.
func FuzzDurationUnmarshalJSON(f *testing.F) {
	for _, seed := range []string{`0`, `30000000000`, `"90s"`, `"5m"`, `"1h2m3.5s"`, `null`, `3e10`, `-1`,
		`"9223372036854775807ns"`, `9223372036854775807`, `1.5`, `"abc"`, `""`, `{}`, `"\u0039\u0030s"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d batonv1.Duration
		if err := d.UnmarshalJSON(data); err != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("marshal %d: %v", d, err)
		}
		if _, err := strconv.ParseInt(string(out), 10, 64); err != nil {
			t.Fatalf("%s marshals to %s, want int64 nanoseconds", data, out)
		}
		var again batonv1.Duration
		if err := json.Unmarshal(out, &again); err != nil || again != d {
			t.Fatalf("%s -> %d -> %s -> %d (%v): not stable", data, d, out, again, err)
		}
	})
}

// FuzzOperatorCommandArgs feeds spec.args (and the rest of a command) arbitrary JSON: it
// never panics, and an accepted command deep-copies equal and survives a JSON round trip
// with its nested args intact.
func FuzzOperatorCommandArgs(f *testing.F) {
	for _, seed := range []string{
		`{"spec":{"args":{"image":"nginx","tags":["a","b"],"nested":{"x":[1,{"y":null}]}}}}`,
		`{"spec":{"args":{}}}`, `{"spec":{"args":null}}`, `{"spec":{"args":[]}}`,
		`{"spec":{"args":{"n":1e400}}}`, `{"spec":{"ttl":"5m","commandIndex":0,"commandCount":2,"args":{"a":true}}}`,
		`{"spec":{"designators":[{"designatorType":"Attributes","attributes":{"k":"v"}}],"body":"aGk="}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cmd batonv1.OperatorCommand
		if err := json.Unmarshal(data, &cmd); err != nil {
			return
		}
		if cp := cmd.DeepCopy(); !reflect.DeepEqual(cp, &cmd) {
			t.Fatalf("DeepCopy differs from the original: %#v vs %#v", cp.Spec.Args, cmd.Spec.Args)
		}
		first, err := json.Marshal(&cmd)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var again batonv1.OperatorCommand
		if err := json.Unmarshal(first, &again); err != nil {
			t.Fatalf("%s does not read back: %v", first, err)
		}
		second, err := json.Marshal(&again)
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the command:\n%s\n%s (%v)", first, second, err)
		}
	})
}
