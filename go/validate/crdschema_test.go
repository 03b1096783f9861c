package validate

import (
	"strings"
	"testing"
)

func TestValidateSchemaReportsWhatTheAPIServerWouldRefuseOrDrop(t *testing.T) {
	minimum := 0.0
	s := &Schema{Type: "object", Required: []string{"spec"}, Properties: map[string]*Schema{
		"spec": {Type: "object", Properties: map[string]*Schema{
			"replicas": {Type: "integer", Minimum: &minimum},
			"policy":   {Type: "string", Enum: []any{"linear", "exponential"}},
			"port":     {IntOrString: true},
			"labels":   {Type: "object", AdditionalProperties: &Schema{Type: "string"}},
			"extra":    {Type: "object", PreserveUnknown: true},
		}},
	}}
	ok := map[string]any{
		"apiVersion": "x/v1", "kind": "X", "metadata": map[string]any{"name": "x"},
		"spec": map[string]any{
			"replicas": 1.0, "policy": "linear", "port": "http",
			"labels": map[string]any{"a": "b"}, "extra": map[string]any{"anything": true},
		},
	}
	if p := validateSchema(s, ok, ""); len(p) > 0 {
		t.Errorf("valid object: %v", p)
	}
	bad := map[string]any{"spec": map[string]any{
		"replicas": -1.5, "policy": "random", "port": true, "labels": map[string]any{"a": 1.0}, "replica": 1.0,
	}}
	all := strings.Join(validateSchema(s, bad, ""), "\n")
	for _, want := range []string{
		".spec.replicas: must be an integer", ".spec.replicas: -1.5 is below the minimum 0",
		".spec.policy: random is not one of", ".spec.port: must be an integer or a string",
		".spec.labels.a: must be a string", ".spec.replica: not in the CRD schema",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem %q in:\n%s", want, all)
		}
	}
	if p := validateSchema(s, map[string]any{}, ""); len(p) != 1 || p[0] != ".spec: required by the CRD schema" {
		t.Errorf("missing spec: %v", p)
	}
}
