package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// checkValues fails when a default of the hand-owned values.yaml is not config/'s, or when
// values.yaml has no value for a manager flag the chart renders.
func checkValues(root string, in *config) error {
	path := filepath.Join(root, chartDir, "values.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the chart's values: %w", err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(data, &values); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	var rbs []rbacv1.RoleBinding
	if err := decodeAll(filepath.Join(root, "config", "components", "apply-wait", "role.yaml"), "RoleBinding", &rbs); err != nil {
		return err
	}
	var bindingNamespaces []string
	for _, rb := range rbs {
		bindingNamespaces = append(bindingNamespaces, rb.Namespace)
	}
	want := map[string]any{
		"replicas":               in.deployment.Spec.Replicas,
		"image.pullPolicy":       in.container.ImagePullPolicy,
		"podSecurityContext":     in.deployment.Spec.Template.Spec.SecurityContext,
		"securityContext":        in.container.SecurityContext,
		"resources":              in.container.Resources,
		"leaderElection.enabled": slices.Contains(in.container.Args, "--leader-elect"),
		"metrics.port":           8080,
		"applyWait.rules":        in.applyWait.Rules,
		"applyWait.namespaces":   bindingNamespaces,
	}
	var problems []string
	for key, v := range want {
		got, ok := lookup(values, key)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is missing", key))
			continue
		}
		if !reflect.DeepEqual(got, normalize(v)) {
			problems = append(problems, fmt.Sprintf("%s is %v, config/ says %v", key, got, normalize(v)))
		}
	}
	manager, _ := values["manager"].(map[string]any)
	keys := []string{"logLevel", "extraArgs"}
	for _, f := range managerFlags {
		if slices.Contains(in.managerFlags, f.flag) {
			keys = append(keys, strings.TrimPrefix(f.value, "manager."))
		}
	}
	for _, k := range keys {
		if _, ok := manager[k]; !ok {
			problems = append(problems, fmt.Sprintf("manager.%s is missing", k))
		}
	}
	for k := range manager {
		if !slices.Contains(keys, k) {
			problems = append(problems, fmt.Sprintf("manager.%s sets no flag of this manager", k))
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("%s does not match config/ and the manager's flags:\n  %s", path, strings.Join(problems, "\n  "))
	}
	return nil
}

// lookup finds a dotted key in values.
func lookup(values map[string]any, key string) (any, bool) {
	var cur any = values
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// normalize is v as values.yaml decodes: through JSON.
func normalize(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return err
	}
	return out
}

// decodeAll decodes every object of kind in the multi-document YAML file into out.
func decodeAll[T any](path, kind string, out *[]T) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return fmt.Errorf("decoding %s: %w", path, err)
		}
		if meta.Kind != kind {
			continue
		}
		var obj T
		if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
			return fmt.Errorf("decoding the %s of %s: %w", kind, path, err)
		}
		*out = append(*out, obj)
	}
}
