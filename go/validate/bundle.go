package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// Doc is one YAML document of a manifest file.
type Doc struct {
	File       string // relative to the repository root
	Index      int    // position in its file
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	JSON       []byte
	Object     map[string]any
}

func (d Doc) String() string {
	return fmt.Sprintf("%s[%d] %s %s/%s", d.File, d.Index, d.Kind, d.Namespace, d.Name)
}

// GVK is apiVersion + "/" + kind, e.g. "serving.knative.dev/v1/Service".
func (d Doc) GVK() string { return d.APIVersion + "/" + d.Kind }

// Bundle is a set of manifests checked together (references resolve within it).
type Bundle struct {
	Docs []Doc
}

// Find returns the documents of one apiVersion/kind.
func (b *Bundle) Find(gvk string) []Doc {
	var out []Doc
	for _, d := range b.Docs {
		if d.GVK() == gvk {
			out = append(out, d)
		}
	}
	return out
}

// Get returns the one document of that apiVersion/kind, namespace and name.
func (b *Bundle) Get(gvk, namespace, name string) (Doc, bool) {
	for _, d := range b.Docs {
		if d.GVK() == gvk && d.Namespace == namespace && d.Name == name {
			return d, true
		}
	}
	return Doc{}, false
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// parseManifest splits a multi-document YAML file; every document needs apiVersion, kind and
// metadata.name.
func parseManifest(rel string, data []byte) ([]Doc, []string) {
	var docs []Doc
	var problems []string
	for i, part := range docSeparator.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(part)) == "" {
			continue
		}
		js, err := yaml.YAMLToJSON([]byte(part))
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s[%d]: not valid YAML: %v", rel, i, err))
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal(js, &obj); err != nil || obj == nil {
			problems = append(problems, fmt.Sprintf("%s[%d]: not a YAML mapping", rel, i))
			continue
		}
		doc := Doc{File: rel, Index: i, JSON: js, Object: obj}
		doc.APIVersion, _ = obj["apiVersion"].(string)
		doc.Kind, _ = obj["kind"].(string)
		meta, _ := obj["metadata"].(map[string]any)
		doc.Name, _ = meta["name"].(string)
		doc.Namespace, _ = meta["namespace"].(string)
		if doc.APIVersion == "" || doc.Kind == "" || doc.Name == "" {
			problems = append(problems, fmt.Sprintf("%s: apiVersion, kind and metadata.name are required", doc))
			continue
		}
		docs = append(docs, doc)
	}
	return docs, problems
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return b.String()
}

// decodeStrict decodes a document into an API type, refusing fields the type does not have.
func decodeStrict(d Doc, into any) error {
	return yaml.UnmarshalStrict(d.JSON, into)
}

// yamlStrict decodes YAML text, refusing unknown fields.
func yamlStrict(text string, into any) error {
	return yaml.UnmarshalStrict([]byte(text), into)
}

// KustomizationResources lists knative/kustomization.yaml's resources.
func (r *Repo) KustomizationResources() ([]string, error) {
	text, err := r.ReadFile("knative/kustomization.yaml")
	if err != nil {
		return nil, err
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal([]byte(text), &k); err != nil {
		return nil, fmt.Errorf("knative/kustomization.yaml: %w", err)
	}
	return k.Resources, nil
}

// LoadBundle reads the manifests listed by knative/kustomization.yaml, with `replace` mapping a
// path relative to the root ("knative/...") to another file (used to swap in broken fixtures).
// The problems are the manifests that cannot be read or parsed; the error, a kustomization that
// cannot.
func (r *Repo) LoadBundle(replace map[string]string) (*Bundle, []string, error) {
	resources, err := r.KustomizationResources()
	if err != nil {
		return nil, nil, err
	}
	b := &Bundle{}
	var problems []string
	for _, rel := range resources {
		path := filepath.Join(r.Root, "knative", rel)
		if alt, ok := replace["knative/"+rel]; ok {
			path = alt
		}
		data, err := os.ReadFile(path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("knative/%s: %v", rel, err))
			continue
		}
		docs, p := parseManifest("knative/"+rel, data)
		b.Docs = append(b.Docs, docs...)
		problems = append(problems, p...)
	}
	return b, problems, nil
}
