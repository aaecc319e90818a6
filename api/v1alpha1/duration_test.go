package v1alpha1

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDurationUnmarshal(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		"int64 nanoseconds":     {in: `300000000000`, want: 5 * time.Minute},
		"duration string":       {in: `"5m"`, want: 5 * time.Minute},
		"compound string":       {in: `"1h30m"`, want: 90 * time.Minute},
		"null":                  {in: `null`, want: 0},
		"whole float":           {in: `3e10`, want: 30 * time.Second},
		"fractional float":      {in: `1.5`, wantErr: true},
		"bad string":            {in: `"five minutes"`, wantErr: true},
		"bool":                  {in: `true`, wantErr: true},
		"negative nanoseconds":  {in: `-1`, want: -1},
		"max int64 nanoseconds": {in: `9223372036854775807`, want: time.Duration(1<<63 - 1)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var d Duration
			err := json.Unmarshal([]byte(tc.in), &d)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Unmarshal(%s) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err == nil && d.Std() != tc.want {
				t.Errorf("Unmarshal(%s) = %v, want %v", tc.in, d.Std(), tc.want)
			}
		})
	}
}

func TestDurationMarshalsNanoseconds(t *testing.T) {
	data, err := json.Marshal(OperatorCommandSpec{GUID: "g", CommandType: "t", TTL: Duration(90 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"guid":"g","commandType":"t","ttl":90000000000}`; string(data) != want {
		t.Errorf("Marshal = %s, want %s", data, want)
	}
}

func TestArgsDeepCopy(t *testing.T) {
	type custom struct{ N int }
	in := Args{
		"nested": map[string]any{"list": []any{map[string]any{"x": "y"}, int64(1)}},
		"int":    7, // a Go caller's int: runtime.DeepCopyJSON would panic on it
		"struct": custom{N: 1},
		"nil":    nil,
	}
	out := in.DeepCopy()
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatalf("DeepCopy differs (-in +out):\n%s", diff)
	}
	out["nested"].(map[string]any)["list"].([]any)[0].(map[string]any)["x"] = "changed"
	if got := in["nested"].(map[string]any)["list"].([]any)[0].(map[string]any)["x"]; got != "y" {
		t.Errorf("DeepCopy shares nested maps: original now %q", got)
	}
	if Args(nil).DeepCopy() != nil {
		t.Error("DeepCopy of nil Args is not nil")
	}
}
