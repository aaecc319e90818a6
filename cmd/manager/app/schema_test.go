package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// crdSchema reads the openAPIV3Schema of the first version of the CRD in file (relative
// to the repository root), as the check reads a served schema.
func crdSchema(t *testing.T, file string) (kind string, schema *schemaNode) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", file))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Names    struct{ Kind string }
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema json.RawMessage `json:"openAPIV3Schema"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	schema = &schemaNode{}
	if err := json.Unmarshal(crd.Spec.Versions[0].Schema.OpenAPIV3Schema, schema); err != nil {
		t.Fatal(err)
	}
	return crd.Spec.Names.Kind, schema
}

const (
	batonCommandCRD  = "config/crd/bases/kubescape.io_operatorcommands.yaml"
	batonSequenceCRD = "config/crd/bases/kubescape.io_commandsequences.yaml"
	chartCommandCRD  = "test/testdata/kubescape-operator/crds/operator-command.crd.yaml"
)

func TestSchemaProblems(t *testing.T) {
	cases := map[string]struct {
		crds []string
		want []string
	}{
		"baton's CRDs": {crds: []string{batonCommandCRD, batonSequenceCRD}},
		"Kubescape's chart CRD beside baton's CommandSequence": {
			crds: []string{chartCommandCRD, batonSequenceCRD},
			want: []string{"operatorcommands.kubescape.io lacks spec.designators[].attributes keeping its keys, " +
				"spec.ttl accepting an integer, spec.args preserving unknown fields, " +
				"status.phase, status.attempts, status.message, status.observedGeneration"},
		},
		"no CommandSequence CRD": {
			crds: []string{batonCommandCRD},
			want: []string{"commandsequences.kubescape.io is not installed"},
		},
		"neither": {
			want: []string{"operatorcommands.kubescape.io is not installed", "commandsequences.kubescape.io is not installed"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			schemas := map[string]*schemaNode{}
			for _, file := range tc.crds {
				kind, schema := crdSchema(t, file)
				schemas[kind] = schema
			}
			if diff := cmp.Diff(tc.want, schemaProblems(schemas)); diff != "" {
				t.Errorf("schemaProblems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRequirementsFollowTheTypes pins a few of the requirements derived from the Go types,
// the fields DESIGN.md 1 and 5 name.
func TestRequirementsFollowTheTypes(t *testing.T) {
	got := map[string]need{}
	for _, k := range schemaKinds {
		for _, r := range requirements(k.obj) {
			got[k.kind+" "+r.path] = r.need
		}
	}
	want := map[string]need{
		"OperatorCommand spec.ttl":                         needIntOrString,
		"OperatorCommand spec.args":                        needUnknownFields,
		"OperatorCommand spec.designators[].attributes":    needKeys,
		"OperatorCommand spec.body":                        needField,
		"OperatorCommand status.phase":                     needField,
		"OperatorCommand status.attempts":                  needField,
		"OperatorCommand status.error.reason":              needField,
		"CommandSequence status.report.members[].payload":  needUnknownFields,
		"CommandSequence status.report.omitted":            needKeys,
		"CommandSequence status.conditions[].reason":       needField,
		"CommandSequence status.report.members[].duration": needField,
	}
	for path, n := range want {
		if g, ok := got[path]; !ok || g != n {
			t.Errorf("requirement %s: got %v (present %v), want %v", path, g, ok, n)
		}
	}
	for path := range got {
		if strings.Contains(path, "TTLIsString") || strings.Contains(path, "Trimmed") || strings.Contains(path, "metadata") {
			t.Errorf("requirement %s: a field that is never serialised", path)
		}
	}
}

func TestPathSegments(t *testing.T) {
	got := pathSegments("spec.designators[].attributes{}")
	want := []string{"spec", "designators", "[]", "attributes", "{}"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pathSegments (-want +got):\n%s", diff)
	}
}
