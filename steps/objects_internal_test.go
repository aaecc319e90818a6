package steps

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestObjectsFromArgsOrBody(t *testing.T) {
	configMap := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}`
	cases := map[string]struct {
		objects []string
		body    string
		want    []string // kind/name of each object, in order
		wantErr string
	}{
		"args objects": {
			objects: []string{configMap, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"}}`},
			want:    []string{"ConfigMap/a", "Secret/b"},
		},
		"yaml documents, empty ones skipped": {
			body: "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# only a comment\n---\n" +
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
			want: []string{"ConfigMap/a", "ConfigMap/b"},
		},
		"json body":         {body: configMap, want: []string{"ConfigMap/a"}},
		"json stream body":  {body: configMap + "\n" + strings.Replace(configMap, `"a"`, `"c"`, 1), want: []string{"ConfigMap/a", "ConfigMap/c"}},
		"list is expanded":  {body: `{"apiVersion":"v1","kind":"List","items":[` + configMap + `]}`, want: []string{"ConfigMap/a"}},
		"both":              {objects: []string{configMap}, body: configMap, wantErr: "give one"},
		"neither":           {wantErr: "nothing to apply"},
		"no kind":           {objects: []string{`{"apiVersion":"v1","metadata":{"name":"a"}}`}, wantErr: "apiVersion and kind are required"},
		"generateName only": {body: "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}\n", wantErr: "metadata.name is required"},
		"bad apiVersion":    {objects: []string{`{"apiVersion":"a/b/c","kind":"X","metadata":{"name":"a"}}`}, wantErr: `apiVersion "a/b/c"`},
		"not an object":     {objects: []string{`[1]`}, wantErr: "not a JSON object"},
		"malformed yaml":    {body: "apiVersion: v1\nkind: [\n", wantErr: "reading the body"},
		"list item unnamed": {body: `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap"}]}`, wantErr: "metadata.name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var raw []json.RawMessage
			for _, o := range tc.objects {
				raw = append(raw, json.RawMessage(o))
			}
			objs, err := objectsFromArgsOrBody(raw, []byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("objectsFromArgsOrBody: %v", err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.GetKind()+"/"+o.GetName())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeObjectKeepsIntegers(t *testing.T) {
	objs, err := objectsFromArgsOrBody(nil, []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := objs[0].Object["spec"].(map[string]any)["replicas"]; got != int64(3) {
		t.Fatalf("replicas = %#v, want int64(3) as the API machinery expects", got)
	}
}
