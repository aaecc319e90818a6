package app

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	batonv1 "github.com/batonhq/baton/api/v1alpha1"
)

// The manager refuses a schema that would prune what it writes (DESIGN.md 5c). What it
// needs is derived from its own Go types — every JSON field of each kind's spec and status,
// recursively — plus the few types whose JSON is not their Go structure (schemaLeaves).
// It reads the API's published OpenAPI v3 document, which every authenticated client may
// read: no rights beyond the manager's own.

// FixCommands are the commands that install baton's CRDs in place of others, named in the
// refusal: with Helm (charts/baton) and with kustomize.
const FixCommands = "helm upgrade --install baton ./charts/baton -n baton-system --create-namespace --take-ownership" +
	" (Helm) or kubectl apply --server-side --force-conflicts -k config/crd (kustomize)"

// schemaKind is a kind whose served schema the manager checks.
type schemaKind struct {
	crd  string // the CRD's name
	kind string
	obj  any // a value of the kind's Go type
}

// schemaKinds are the kinds whose served schema the manager checks, with their CRD names.
var schemaKinds = []schemaKind{
	{crd: "operatorcommands." + batonv1.GroupVersion.Group, kind: "OperatorCommand", obj: batonv1.OperatorCommand{}},
	{crd: "commandsequences." + batonv1.GroupVersion.Group, kind: "CommandSequence", obj: batonv1.CommandSequence{}},
}

// need is what a served schema must do at one path.
type need int

const (
	// needField: the path is in the schema (a property, or kept by its parent).
	needField need = iota
	// needUnknownFields: the path preserves unknown fields (a free-form object).
	needUnknownFields
	// needIntOrString: the path accepts an integer as well as a string.
	needIntOrString
	// needKeys: the path keeps the keys of a map (additionalProperties).
	needKeys
)

// schemaLeaves are the types whose JSON is not their Go structure, with what the schema
// must do to keep them.
var schemaLeaves = map[reflect.Type]need{
	reflect.TypeFor[batonv1.Duration]():     needIntOrString, // int64 nanoseconds or "90s"
	reflect.TypeFor[batonv1.Args]():         needUnknownFields,
	reflect.TypeFor[apiextensionsv1.JSON](): needUnknownFields, // a report line's inline payload
	reflect.TypeFor[metav1.Time]():          needField,
	reflect.TypeFor[[]byte]():               needField, // base64
}

// requirement is one thing the manager needs from a kind's served schema.
type requirement struct {
	path string // dotted JSON path; "[]" steps into a list's items, "{}" into a map's values
	need need
}

// String says what is missing when the requirement is not met.
func (r requirement) String() string {
	switch r.need {
	case needUnknownFields:
		return r.path + " preserving unknown fields"
	case needIntOrString:
		return r.path + " accepting an integer"
	case needKeys:
		return r.path + " keeping its keys"
	}
	return r.path
}

// requirements lists what the manager needs from the schema of obj's kind: its spec and
// status, field by field.
func requirements(obj any) []requirement {
	t := reflect.TypeOf(obj)
	var out []requirement
	for _, top := range []string{"spec", "status"} {
		f, ok := jsonField(t, top)
		if !ok {
			continue
		}
		out = appendRequirements(out, top, f.Type)
	}
	return out
}

// jsonField finds the field of struct t whose JSON name is name.
func jsonField(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); jsonName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// jsonName is the JSON name of a struct field, "" for an inlined or unexported field and
// "-" for one never serialised.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return "-"
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" && !f.Anonymous {
		return f.Name
	}
	return name
}

func appendRequirements(out []requirement, path string, t reflect.Type) []requirement {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n, ok := schemaLeaves[t]; ok {
		return append(out, requirement{path: path, need: n})
	}
	switch t.Kind() {
	case reflect.Struct:
		return appendFields(append(out, requirement{path: path, need: needField}), path, t)
	case reflect.Slice, reflect.Array:
		out = append(out, requirement{path: path, need: needField})
		return appendRequirements(out, path+"[]", t.Elem())
	case reflect.Map:
		out = append(out, requirement{path: path, need: needKeys})
		return appendRequirements(out, path+"{}", t.Elem())
	}
	return append(out, requirement{path: path, need: needField})
}

// appendFields adds the requirements of struct t's fields under path; an inlined struct's
// fields are at path itself.
func appendFields(out []requirement, path string, t reflect.Type) []requirement {
	for i := range t.NumField() {
		f := t.Field(i)
		switch name := jsonName(f); name {
		case "-":
		case "":
			out = appendFields(out, path, f.Type)
		default:
			out = appendRequirements(out, path+"."+name, f.Type)
		}
	}
	return out
}

// schemaNode is the part of an OpenAPI v3 schema the check reads.
type schemaNode struct {
	Type                  any                    `json:"type"`
	Properties            map[string]*schemaNode `json:"properties"`
	Items                 *schemaNode            `json:"items"`
	AdditionalProperties  *additionalProperties  `json:"additionalProperties"`
	PreserveUnknownFields bool                   `json:"x-kubernetes-preserve-unknown-fields"`
	IntOrString           bool                   `json:"x-kubernetes-int-or-string"`
	GroupVersionKinds     []struct {
		Group, Version, Kind string
	} `json:"x-kubernetes-group-version-kind"`
}

// additionalProperties is a boolean or a schema.
type additionalProperties struct {
	allowed bool
	schema  *schemaNode
}

func (a *additionalProperties) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &a.allowed); err == nil {
		return nil
	}
	a.allowed = true
	return json.Unmarshal(data, &a.schema)
}

// values is the schema of the values of a map node; nil when it keeps no unknown keys.
func (n *schemaNode) values() *schemaNode {
	switch a := n.AdditionalProperties; {
	case a == nil || !a.allowed:
		return nil
	case a.schema == nil:
		return &schemaNode{}
	default:
		return a.schema
	}
}

// lookup finds the schema at path below n. kept is true when an ancestor preserves
// unknown fields, so whatever is below it is kept as written.
func (n *schemaNode) lookup(path string) (node *schemaNode, kept bool) {
	node = n
	for _, seg := range pathSegments(path) {
		var next *schemaNode
		switch seg {
		case "[]":
			next = node.Items
		case "{}":
			next = node.values()
		default:
			if next = node.Properties[seg]; next == nil {
				next = node.values()
			}
		}
		if next == nil {
			return nil, node.PreserveUnknownFields && len(node.Properties) == 0
		}
		node = next
	}
	return node, false
}

// pathSegments splits "spec.designators[].attributes{}" into spec, designators, [],
// attributes, {}.
func pathSegments(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		var steps []string
		for strings.HasSuffix(part, "[]") || strings.HasSuffix(part, "{}") {
			steps = append([]string{part[len(part)-2:]}, steps...)
			part = part[:len(part)-2]
		}
		out = append(append(out, part), steps...)
	}
	return out
}

// met says whether the schema below root satisfies r.
func (r requirement) met(root *schemaNode) bool {
	node, kept := root.lookup(r.path)
	if kept {
		return true
	}
	if node == nil {
		return false
	}
	switch r.need {
	case needUnknownFields:
		return node.PreserveUnknownFields
	case needIntOrString:
		return node.IntOrString || (node.PreserveUnknownFields && node.Type == nil)
	case needKeys:
		return node.values() != nil || node.PreserveUnknownFields
	}
	return true
}

// missing lists the requirements root does not meet, leaving out those below one already
// listed.
func missing(root *schemaNode, reqs []requirement) []requirement {
	var out []requirement
	for _, r := range reqs {
		if slices.ContainsFunc(out, func(m requirement) bool { return below(r.path, m.path) }) {
			continue
		}
		if !r.met(root) {
			out = append(out, r)
		}
	}
	return out
}

// below says whether path is strictly under parent.
func below(path, parent string) bool {
	rest, ok := strings.CutPrefix(path, parent)
	return ok && rest != "" && strings.ContainsRune(".[{", rune(rest[0]))
}

// schemaProblems checks the served schemas of baton's kinds, keyed by kind (a kind the API
// serves no schema for is absent), and returns one phrase per CRD that falls short.
func schemaProblems(schemas map[string]*schemaNode) []string {
	var out []string
	for _, k := range schemaKinds {
		root, ok := schemas[k.kind]
		if !ok {
			out = append(out, k.crd+" is not installed")
			continue
		}
		if m := missing(root, requirements(k.obj)); len(m) > 0 {
			names := make([]string, len(m))
			for i, r := range m {
				names[i] = r.String()
			}
			out = append(out, k.crd+" lacks "+strings.Join(names, ", "))
		}
	}
	return out
}

// openAPIDocument is the part of a group version's OpenAPI v3 document the check reads.
type openAPIDocument struct {
	Components struct {
		Schemas map[string]*schemaNode `json:"schemas"`
	} `json:"components"`
}

// kindSchemas picks baton's kinds out of a group version's OpenAPI v3 document, keyed by kind.
func kindSchemas(data []byte) (map[string]*schemaNode, error) {
	var doc openAPIDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decoding the OpenAPI v3 document: %w", err)
	}
	out := map[string]*schemaNode{}
	for _, s := range doc.Components.Schemas {
		for _, gvk := range s.GroupVersionKinds {
			if gvk.Group == batonv1.GroupVersion.Group && gvk.Version == batonv1.GroupVersion.Version {
				out[gvk.Kind] = s
			}
		}
	}
	return out, nil
}

// The published OpenAPI document follows a CRD change within moments, not at once: the
// check waits up to schemaPublishWait for the schema of a kind the API already serves, and
// reads a schema that falls short again for schemaSettle before it refuses.
const (
	schemaPublishWait = 30 * time.Second
	schemaSettle      = 2 * time.Second
	schemaPoll        = 250 * time.Millisecond
)

// checkSchema refuses, with one line naming each CRD, what it lacks and the fix, when the
// served schemas of baton's kinds would prune what the manager writes.
func checkSchema(ctx context.Context, cfg *rest.Config, log logr.Logger) error {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating the discovery client: %w", err)
	}
	start := time.Now()
	for {
		schemas, err := servedSchemas(dc)
		if err != nil {
			return err
		}
		problems := schemaProblems(schemas)
		if len(problems) == 0 {
			return nil
		}
		unpublished, err := servedWithoutSchema(dc, schemas)
		if err != nil {
			return err
		}
		wait := schemaSettle
		if len(unpublished) > 0 {
			wait = schemaPublishWait
			log.Info("waiting for the API server to publish the schema of kinds it serves", "kinds", unpublished)
		}
		if time.Since(start) >= wait {
			return fmt.Errorf("refusing to start: %s, so the API server would prune or refuse what baton writes; install baton's CRDs: %s",
				strings.Join(problems, "; "), FixCommands)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("checking the served schema of %s: %w", batonv1.GroupVersion, ctx.Err())
		case <-time.After(schemaPoll):
		}
	}
}

// servedSchemas reads the published OpenAPI v3 schemas of baton's kinds, keyed by kind.
func servedSchemas(dc discovery.DiscoveryInterface) (map[string]*schemaNode, error) {
	gv := batonv1.GroupVersion.String()
	paths, err := dc.OpenAPIV3().Paths()
	if err != nil {
		return nil, fmt.Errorf("reading the API's OpenAPI v3 index: %w", err)
	}
	doc, ok := paths["apis/"+gv]
	if !ok {
		return nil, nil
	}
	data, err := doc.Schema("application/json")
	if err != nil {
		return nil, fmt.Errorf("reading the OpenAPI v3 schema of %s: %w", gv, err)
	}
	return kindSchemas(data)
}

// servedWithoutSchema lists baton's kinds that discovery lists but the OpenAPI document
// does not hold yet.
func servedWithoutSchema(dc discovery.DiscoveryInterface, schemas map[string]*schemaNode) ([]string, error) {
	gv := batonv1.GroupVersion.String()
	list, err := dc.ServerResourcesForGroupVersion(gv)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("discovering the resources of %s: %w", gv, err)
	}
	var out []string
	for _, r := range list.APIResources {
		if _, ok := schemas[r.Kind]; !ok && !strings.Contains(r.Name, "/") &&
			slices.ContainsFunc(schemaKinds, func(k schemaKind) bool { return k.kind == r.Kind }) {
			out = append(out, r.Kind)
		}
	}
	return out, nil
}
