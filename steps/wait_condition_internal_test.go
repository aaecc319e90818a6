package steps

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStatusCondition(t *testing.T) {
	obj := func(generation int64, conditions ...map[string]any) map[string]any {
		items := make([]any, len(conditions))
		for i, c := range conditions {
			items[i] = c
		}
		return map[string]any{
			"metadata": map[string]any{"name": "x", "generation": generation},
			"status":   map[string]any{"conditions": items},
		}
	}
	ready := statusCondition{conditionType: "Ready", status: "True"}
	cases := map[string]struct {
		obj  map[string]any
		want bool
	}{
		"true":                 {obj(1, map[string]any{"type": "Ready", "status": "True"}), true},
		"case-insensitive":     {obj(1, map[string]any{"type": "Ready", "status": "true"}), true},
		"false":                {obj(1, map[string]any{"type": "Ready", "status": "False"}), false},
		"other type":           {obj(1, map[string]any{"type": "Available", "status": "True"}), false},
		"no conditions":        {map[string]any{"metadata": map[string]any{}}, false},
		"stale generation":     {obj(3, map[string]any{"type": "Ready", "status": "True", "observedGeneration": int64(2)}), false},
		"current generation":   {obj(3, map[string]any{"type": "Ready", "status": "True", "observedGeneration": int64(3)}), true},
		"float generation":     {obj(3, map[string]any{"type": "Ready", "status": "True", "observedGeneration": 3.0}), true},
		"among other entries":  {obj(1, map[string]any{"type": "A", "status": "False"}, map[string]any{"type": "Ready", "status": "True"}), true},
		"malformed conditions": {map[string]any{"status": map[string]any{"conditions": "Ready"}}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ready.match(tc.obj)
			if err != nil || got != tc.want {
				t.Fatalf("match = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseWaitCondition(t *testing.T) {
	cases := map[string]struct {
		raw     string
		want    string // the matcher's String()
		wantErr string
	}{
		"type with default status": {raw: `{"type":"Ready"}`, want: "condition Ready=True"},
		"type and status":          {raw: `{"type":"Ready","status":"False"}`, want: "condition Ready=False"},
		"missing":                  {raw: ``, wantErr: "args.condition is required"},
		"null":                     {raw: `null`, wantErr: "args.condition is required"},
		"empty object":             {raw: `{}`, wantErr: "needs a type or an expression"},
		"both":                     {raw: `{"type":"Ready","expression":"true"}`, wantErr: "not both"},
		"wrong shape":              {raw: `[1]`, wantErr: "must be {type, status}"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := parseWaitCondition(json.RawMessage(tc.raw))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || m.String() != tc.want {
				t.Fatalf("parse = %v, %v; want %s", m, err, tc.want)
			}
		})
	}
}

func TestObjectExpression(t *testing.T) {
	deployment := map[string]any{
		"kind":     "Deployment",
		"metadata": map[string]any{"name": "web", "labels": map[string]any{"tier": "front"}},
		"spec":     map[string]any{"replicas": int64(3)},
		"status":   map[string]any{"readyReplicas": int64(3)},
	}
	fresh := map[string]any{"kind": "Deployment", "spec": map[string]any{"replicas": int64(3)}}
	cases := map[string]struct {
		expression string
		obj        map[string]any
		want       bool
		wantErr    bool
	}{
		"ready":                     {expression: "object.status.readyReplicas >= object.spec.replicas", obj: deployment, want: true},
		"not ready":                 {expression: "object.status.readyReplicas > 3", obj: deployment, want: false},
		"label":                     {expression: `object.metadata.labels.tier == "front"`, obj: deployment, want: true},
		"status not set yet errors": {expression: "object.status.readyReplicas >= 3", obj: fresh, wantErr: true},
		"explicit default":          {expression: "(object.status?.readyReplicas ?? 0) >= 3", obj: fresh, want: false},
		"explicit default when set": {expression: "(object.status?.readyReplicas ?? 0) >= 3", obj: deployment, want: true},
		"not a bool at run time":    {expression: "object.kind", obj: deployment, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := compileObjectExpression(tc.expression)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got, err := m.match(tc.obj)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("match = %v, %v; want %v (error: %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestObjectExpressionLimits(t *testing.T) {
	cases := map[string]string{
		"unknown variable": "obj.status != nil",
		"clock":            "now() != nil",
		"too long":         strings.Repeat("true && ", 600) + "true",
		"too many nodes":   strings.Repeat("1 + ", 700) + "1 > 0",
		"not bool":         `"text"`,
	}
	for name, expression := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := compileObjectExpression(expression); err == nil {
				t.Fatalf("%q compiled", expression)
			}
		})
	}
}
