package validate

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// The CRDs of the custom kinds Video2Audio uses, as shipped in the Go modules the validation
// imports (same versions as the API types): the fields those packages' Validate leaves to the
// API server's schema check (a source's sink, required fields, types, unknown fields that the
// server would silently prune) are checked against these schemas.
var crdFiles = map[string]struct{ module, path string }{
	"serving.knative.dev/v1/Service":              {"knative.dev/serving", "config/core/300-resources/service.yaml"},
	"sources.knative.dev/v1/PingSource":           {"knative.dev/eventing", "config/core/resources/pingsource.yaml"},
	"sources.knative.dev/v1alpha1/RabbitmqSource": {"knative.dev/eventing-rabbitmq", "config/source/300-rabbitmqsource.yaml"},
}

// Schema is the subset of OpenAPI v3 (structural schema) that CRDs use.
type Schema struct {
	Type                 string             `json:"type"`
	Properties           map[string]*Schema `json:"properties"`
	AdditionalProperties *Schema            `json:"additionalProperties"`
	Items                *Schema            `json:"items"`
	Required             []string           `json:"required"`
	Enum                 []any              `json:"enum"`
	Minimum              *float64           `json:"minimum"`
	Maximum              *float64           `json:"maximum"`
	PreserveUnknown      bool               `json:"x-kubernetes-preserve-unknown-fields"`
	IntOrString          bool               `json:"x-kubernetes-int-or-string"`
	EmbeddedResource     bool               `json:"x-kubernetes-embedded-resource"`
}

var (
	moduleDirsOnce sync.Once
	moduleDirs     map[string]string
	moduleDirsErr  error
)

// moduleDir is where the Go toolchain keeps a dependency's source (its module cache).
func moduleDir(t testing.TB, module string) string {
	t.Helper()
	moduleDirsOnce.Do(func() {
		args := []string{"list", "-m", "-f", "{{.Path}} {{.Dir}}"}
		for _, loc := range crdFiles {
			args = append(args, loc.module)
		}
		cmd := exec.Command("go", args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			moduleDirsErr = fmt.Errorf("go list -m: %w\n%s", err, stderr.String())
			return
		}
		moduleDirs = map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if path, dir, ok := strings.Cut(line, " "); ok && dir != "" {
				moduleDirs[path] = dir
			}
		}
	})
	if moduleDirsErr != nil {
		t.Fatal(moduleDirsErr)
	}
	dir, ok := moduleDirs[module]
	if !ok {
		// Listed but not downloaded yet: ask for it.
		out, err := exec.Command("go", "mod", "download", "-json", module).Output()
		if err != nil {
			t.Fatalf("module %s not available: %v", module, err)
		}
		var info struct{ Dir string }
		if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
			t.Fatalf("module %s: no source directory", module)
		}
		dir = info.Dir
	}
	return dir
}

var (
	schemasMu sync.Mutex
	schemas   = map[string]*Schema{}
)

// crdSchema loads the openAPIV3Schema of one kind's CRD at the version in use.
func crdSchema(t testing.TB, gvk string) *Schema {
	t.Helper()
	schemasMu.Lock()
	defer schemasMu.Unlock()
	if s, ok := schemas[gvk]; ok {
		return s
	}
	loc, ok := crdFiles[gvk]
	if !ok {
		return nil
	}
	path := filepath.Join(moduleDir(t, loc.module), loc.path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("CRD of %s: %v", gvk, err)
	}
	var crd struct {
		Spec struct {
			Names    struct{ Kind string } `json:"names"`
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema *Schema `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	for _, part := range docSeparator.Split(string(data), -1) {
		if err := yaml.Unmarshal([]byte(part), &crd); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if crd.Spec.Names.Kind != "" {
			break
		}
	}
	version := gvk[strings.Index(gvk, "/")+1 : strings.LastIndex(gvk, "/")]
	for _, v := range crd.Spec.Versions {
		if v.Name == version && v.Schema.OpenAPIV3Schema != nil {
			schemas[gvk] = v.Schema.OpenAPIV3Schema
			return v.Schema.OpenAPIV3Schema
		}
	}
	t.Fatalf("%s: no schema for version %s", path, version)
	return nil
}

// validateSchema checks a decoded JSON value against a structural schema, the way the API server
// does on create: types, required fields, enums, bounds, and fields the schema does not know
// (which the server would drop without a word).
func validateSchema(s *Schema, value any, path string) []string {
	if s == nil {
		return nil
	}
	var problems []string
	if value == nil {
		return nil // null is pruned / treated as absent
	}
	if s.IntOrString {
		switch value.(type) {
		case string, float64:
		default:
			problems = append(problems, fmt.Sprintf("%s: must be an integer or a string", path))
		}
		return problems
	}
	switch s.Type {
	case "object", "":
		obj, ok := value.(map[string]any)
		if !ok {
			if s.Type == "object" {
				problems = append(problems, fmt.Sprintf("%s: must be an object", path))
			}
			return problems
		}
		for _, req := range s.Required {
			if _, ok := obj[req]; !ok {
				problems = append(problems, fmt.Sprintf("%s.%s: required by the CRD schema", path, req))
			}
		}
		keys := sortedKeys(obj)
		for _, k := range keys {
			child := obj[k]
			switch {
			case s.Properties[k] != nil:
				problems = append(problems, validateSchema(s.Properties[k], child, path+"."+k)...)
			case s.AdditionalProperties != nil:
				problems = append(problems, validateSchema(s.AdditionalProperties, child, path+"."+k)...)
			case s.PreserveUnknown || s.EmbeddedResource || (s.Type == "" && len(s.Properties) == 0):
			case path == "" && (k == "apiVersion" || k == "kind" || k == "metadata"):
			case len(s.Properties) == 0 && s.Type == "object":
				// `type: object` without properties keeps nothing unless it preserves unknowns;
				// metadata is the exception the server handles itself.
				if !strings.HasSuffix(path, ".metadata") {
					problems = append(problems, fmt.Sprintf("%s.%s: not in the CRD schema (the API server would drop it)", path, k))
				}
			default:
				problems = append(problems, fmt.Sprintf("%s.%s: not in the CRD schema (the API server would drop it)", path, k))
			}
		}
	case "array":
		arr, ok := value.([]any)
		if !ok {
			return append(problems, fmt.Sprintf("%s: must be an array", path))
		}
		for i, item := range arr {
			problems = append(problems, validateSchema(s.Items, item, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case "string":
		if _, ok := value.(string); !ok {
			problems = append(problems, fmt.Sprintf("%s: must be a string, not %v", path, value))
		}
	case "integer", "number":
		n, ok := value.(float64)
		if !ok {
			return append(problems, fmt.Sprintf("%s: must be a number, not %q", path, value))
		}
		if s.Type == "integer" && n != float64(int64(n)) {
			problems = append(problems, fmt.Sprintf("%s: must be an integer", path))
		}
		if s.Minimum != nil && n < *s.Minimum {
			problems = append(problems, fmt.Sprintf("%s: %v is below the minimum %v", path, n, *s.Minimum))
		}
		if s.Maximum != nil && n > *s.Maximum {
			problems = append(problems, fmt.Sprintf("%s: %v is above the maximum %v", path, n, *s.Maximum))
		}
	case "boolean":
		if _, ok := value.(bool); !ok {
			problems = append(problems, fmt.Sprintf("%s: must be true or false", path))
		}
	}
	if len(s.Enum) > 0 {
		found := false
		for _, e := range s.Enum {
			if fmt.Sprint(e) == fmt.Sprint(value) {
				found = true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s: %v is not one of %v", path, value, s.Enum))
		}
	}
	sort.Strings(problems)
	return problems
}
