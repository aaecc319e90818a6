package engine

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// FuzzRetries feeds kubescape.io/retries any string: a number from 0 to MaxRetries or an
// InvalidRetries error, never a panic.
func FuzzRetries(f *testing.F) {
	for _, seed := range []string{"0", "3", " 7 ", "100", "101", "-1", "1e3", "abc", "", "99999999999999999999", "+5", "0x10"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		n, err := Retries(map[string]string{batonv1.AnnotationRetries: value})
		var reason *ReasonError
		switch {
		case err == nil && (n < 0 || n > MaxRetries):
			t.Fatalf("Retries(%q) = %d, outside 0..%d", value, n, MaxRetries)
		case err != nil && (!errors.As(err, &reason) || reason.Reason != batonv1.ReasonInvalidRetries):
			t.Fatalf("Retries(%q) error %v, want reason %s", value, err, batonv1.ReasonInvalidRetries)
		}
	})
}

// FuzzGateLabels feeds kubescape.io/gate-labels any string: either an error, or valid
// labels that include kubescape.io/gate=open and only what the annotation declares.
func FuzzGateLabels(f *testing.F) {
	for _, seed := range []string{`{"kubescape.io/app-name":"operator"}`, `{}`, `null`, `[]`, `{"a":1}`,
		`{"kubescape.io/gate":"closed"}`, `{"bad key!":"v"}`, `{"k":"bad value!"}`,
		`{"kubescape.io/app-name":"node-agent","kubescape.io/node-name":"node-1"}`, `{`, ``} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, annotation string) {
		labels, err := gateLabels(&Member{Annotations: map[string]string{batonv1.AnnotationGateLabels: annotation}})
		if err != nil {
			return
		}
		if labels[batonv1.LabelGate] != batonv1.GateOpen {
			t.Fatalf("gateLabels(%q) = %v, want %s=%s", annotation, labels, batonv1.LabelGate, batonv1.GateOpen)
		}
		for k, v := range labels {
			if len(validation.IsQualifiedName(k)) > 0 || len(validation.IsValidLabelValue(v)) > 0 {
				t.Fatalf("gateLabels(%q) yields the invalid label %q=%q", annotation, k, v)
			}
		}
	})
}

// FuzzCompileExpression compiles any string as a when condition and as an expr value:
// an error or a program, never a panic or an unbounded compile.
func FuzzCompileExpression(f *testing.F) {
	for _, seed := range []string{`true`, `steps["0"].phase == "Succeeded"`, `args.severity in ["high","critical"]`,
		`1 +`, `now()`, `((((((((((1))))))))))`, `"` + "a" + `" * 3`, `map(1..100000, # * 2)`,
		`let x = 1; x + 1`, `fromJSON("{}")`, `sequence.name`, ``} {
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, expression string, asBool bool) {
		p, err := CompileExpression(expression, Env{}, asBool)
		if err == nil && p == nil {
			t.Fatalf("CompileExpression(%q) returned neither a program nor an error", expression)
		}
	})
}
