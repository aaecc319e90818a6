package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// TestCacheTransform: the cache keeps a command's args, body and designators only while a
// condition may read its args; it always drops managedFields.
func TestCacheTransform(t *testing.T) {
	full := batonv1.OperatorCommandSpec{
		CommandType: "scan",
		Args:        batonv1.Args{"image": "nginx"},
		Body:        []byte("body"),
		Designators: []batonv1.PortalDesignator{{DesignatorType: "Attributes"}},
	}
	trimmed := batonv1.OperatorCommandSpec{CommandType: "scan", Trimmed: true}
	when := map[string]string{batonv1.AnnotationWhen: "args.image != ''"}
	cases := map[string]struct {
		annotations map[string]string
		completed   bool
		spec        batonv1.OperatorCommandSpec
		want        batonv1.OperatorCommandSpec
	}{
		"no condition":                {spec: full, want: trimmed},
		"a condition, not completed":  {annotations: when, spec: full, want: full},
		"a condition, completed":      {annotations: when, completed: true, spec: full, want: trimmed},
		"nothing to trim":             {spec: batonv1.OperatorCommandSpec{CommandType: "scan"}, want: batonv1.OperatorCommandSpec{CommandType: "scan"}},
		"completed without condition": {completed: true, spec: full, want: trimmed},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := &batonv1.OperatorCommand{
				ObjectMeta: metav1.ObjectMeta{Name: "c", Annotations: tc.annotations,
					ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
				Spec:   *tc.spec.DeepCopy(),
				Status: batonv1.OperatorCommandStatus{Completed: tc.completed},
			}
			out, err := CacheTransform(cmd)
			if err != nil {
				t.Fatal(err)
			}
			got := out.(*batonv1.OperatorCommand)
			if diff := cmp.Diff(tc.want, got.Spec); diff != "" {
				t.Errorf("spec kept (-want +got):\n%s", diff)
			}
			if got.ManagedFields != nil {
				t.Errorf("managedFields kept: %v", got.ManagedFields)
			}
		})
	}
}
