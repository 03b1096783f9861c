package validate

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"
)

// The CRDs of the custom kinds Video2Audio uses, as shipped in the Go modules the validation
// imports (same versions as the API types): the fields those packages' Validate leaves to the
// API server's schema check (a source's sink, required fields, types, unknown fields that the
// server would silently prune) are checked against these schemas. The RabbitMQ operators' CRDs
// come from their own modules (versions in go/go.mod; scripts/versions.env says which releases
// those are and why the cluster operator's differs).
var crdFiles = map[string]struct{ module, path string }{
	gvkKService:    {"knative.dev/serving", "config/core/300-resources/service.yaml"},
	gvkPing:        {"knative.dev/eventing", "config/core/resources/pingsource.yaml"},
	gvkRabbitmqSrc: {"knative.dev/eventing-rabbitmq", "config/source/300-rabbitmqsource.yaml"},
	gvkCluster:     {clusterOperatorModule, "config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml"},
	gvkExchange:    {topologyOperatorModule, "config/crd/bases/rabbitmq.com_exchanges.yaml"},
	gvkQueue:       {topologyOperatorModule, "config/crd/bases/rabbitmq.com_queues.yaml"},
	gvkBinding:     {topologyOperatorModule, "config/crd/bases/rabbitmq.com_bindings.yaml"},
}

const (
	clusterOperatorModule  = "github.com/rabbitmq/cluster-operator/v2"
	topologyOperatorModule = "github.com/rabbitmq/messaging-topology-operator"
)

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

// crdCache keeps the module directories and the schemas once loaded.
type crdCache struct {
	dirsOnce sync.Once
	dirs     map[string]string
	dirsErr  error

	mu      sync.Mutex
	schemas map[string]*Schema
}

// moduleDir is where the Go toolchain keeps a dependency's source (its module cache), at the
// version go/go.mod selects.
func (r *Repo) moduleDir(module string) (string, error) {
	c := &r.crds
	c.dirsOnce.Do(func() {
		args := []string{"list", "-m", "-f", "{{.Path}} {{.Dir}}"}
		for _, loc := range crdFiles {
			args = append(args, loc.module)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = r.GoDir()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			c.dirsErr = fmt.Errorf("go list -m: %w\n%s", err, stderr.String())
			return
		}
		c.dirs = map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if path, dir, ok := strings.Cut(line, " "); ok && dir != "" {
				c.dirs[path] = dir
			}
		}
	})
	if c.dirsErr != nil {
		return "", c.dirsErr
	}
	if dir, ok := c.dirs[module]; ok {
		return dir, nil
	}
	// Listed but not downloaded yet: ask for it.
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = r.GoDir()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("module %s not available: %v", module, err)
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		return "", fmt.Errorf("module %s: no source directory", module)
	}
	return info.Dir, nil
}

// CRDSchema loads the openAPIV3Schema of one kind's CRD at the version in use; nil (and no
// error) for a kind without a CRD here.
func (r *Repo) CRDSchema(gvk string) (*Schema, error) {
	c := &r.crds
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.schemas[gvk]; ok {
		return s, nil
	}
	loc, ok := crdFiles[gvk]
	if !ok {
		return nil, nil
	}
	dir, err := r.moduleDir(loc.module)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, loc.path)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CRD of %s: %w", gvk, err)
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
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if crd.Spec.Names.Kind != "" {
			break
		}
	}
	version := gvk[strings.Index(gvk, "/")+1 : strings.LastIndex(gvk, "/")]
	for _, v := range crd.Spec.Versions {
		if v.Name == version && v.Schema.OpenAPIV3Schema != nil {
			if c.schemas == nil {
				c.schemas = map[string]*Schema{}
			}
			c.schemas[gvk] = v.Schema.OpenAPIV3Schema
			return v.Schema.OpenAPIV3Schema, nil
		}
	}
	return nil, fmt.Errorf("%s: no schema for version %s", path, version)
}

// CRDSchemas loads the schema of every kind that has a CRD here, by apiVersion/kind.
func (r *Repo) CRDSchemas() (map[string]*Schema, error) {
	out := map[string]*Schema{}
	for gvk := range crdFiles {
		s, err := r.CRDSchema(gvk)
		if err != nil {
			return nil, err
		}
		out[gvk] = s
	}
	return out, nil
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
		for _, k := range slices.Sorted(maps.Keys(obj)) {
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
