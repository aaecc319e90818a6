package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// objectsFromArgsOrBody returns the objects an apply step names: args.objects, or else the
// command's body as YAML or JSON documents. Lists (kind: List) are expanded.
func objectsFromArgsOrBody(objects []json.RawMessage, body []byte) ([]*unstructured.Unstructured, error) {
	var docs []json.RawMessage
	switch {
	case len(objects) > 0 && len(bytes.TrimSpace(body)) > 0:
		return nil, errors.New("objects are given both in args.objects and in the body: give one")
	case len(objects) > 0:
		docs = objects
	default:
		var err error
		if docs, err = splitDocuments(body); err != nil {
			return nil, fmt.Errorf("reading the body as YAML or JSON: %w", err)
		}
	}
	var out []*unstructured.Unstructured
	for i, doc := range docs {
		objs, err := decodeObject(doc)
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", i, err)
		}
		out = append(out, objs...)
	}
	if len(out) == 0 {
		return nil, errors.New("nothing to apply: args.objects is empty and the body holds no object")
	}
	return out, nil
}

// splitDocuments reads a YAML stream (documents separated by ---) or JSON values.
func splitDocuments(body []byte) ([]json.RawMessage, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(body), 4096)
	var docs []json.RawMessage
	for {
		var doc json.RawMessage
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs), err)
		}
		if t := bytes.TrimSpace(doc); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
			docs = append(docs, doc)
		}
	}
}

// decodeObject decodes one document (whole numbers as int64, as the API machinery wants)
// and checks it names what server-side apply needs. A List yields its items.
func decodeObject(doc json.RawMessage) ([]*unstructured.Unstructured, error) {
	var m map[string]any
	if err := utiljson.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	obj := &unstructured.Unstructured{Object: m}
	if obj.IsList() {
		var items []*unstructured.Unstructured
		err := obj.EachListItem(func(item runtime.Object) error {
			u, ok := item.(*unstructured.Unstructured)
			if !ok {
				return fmt.Errorf("list item is %T, not an object", item)
			}
			items = append(items, u)
			return checkApplyObject(u)
		})
		return items, err
	}
	return []*unstructured.Unstructured{obj}, checkApplyObject(obj)
}

func checkApplyObject(obj *unstructured.Unstructured) error {
	if obj.GetAPIVersion() == "" || obj.GetKind() == "" {
		return errors.New("apiVersion and kind are required")
	}
	if _, err := schema.ParseGroupVersion(obj.GetAPIVersion()); err != nil {
		return fmt.Errorf("apiVersion %q: %w", obj.GetAPIVersion(), err)
	}
	if obj.GetName() == "" {
		return fmt.Errorf("%s: metadata.name is required (server-side apply cannot use generateName)", obj.GetKind())
	}
	return nil
}

// describeObject names an object the way kubectl does: kind/name, with its namespace.
func describeObject(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", obj.GetKind(), ns, obj.GetName())
	}
	return fmt.Sprintf("%s %s", obj.GetKind(), obj.GetName())
}
