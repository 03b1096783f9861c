package validate

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// CheckKustomization: every manifest under knative/ is listed in knative/kustomization.yaml
// (except knative/kind/, the cluster plumbing deploy.sh applies on kind only, whose files must
// parse, and knative/monitoring/, which CheckMonitoring checks), and every listed manifest reads
// and parses.
func (r *Repo) CheckKustomization() ([]string, error) {
	resources, err := r.KustomizationResources()
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, rel := range resources {
		listed[rel] = true
	}
	knative := r.Path("knative")
	var problems, unlisted []string
	err = filepath.WalkDir(knative, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		rel, err := filepath.Rel(knative, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case rel == "kustomization.yaml":
		case strings.HasPrefix(rel, "monitoring/"):
			// applied on its own where the Prometheus Operator runs: CheckMonitoring's
		case strings.HasPrefix(rel, "kind/"):
			text, err := r.ReadFile("knative/" + rel)
			if err != nil {
				return err
			}
			docs, p := parseManifest("knative/"+rel, []byte(text))
			problems = append(problems, p...)
			if len(docs) == 0 {
				problems = append(problems, fmt.Sprintf("knative/%s: no manifest", rel))
			}
		case !listed[rel]:
			unlisted = append(unlisted, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(unlisted)
	for _, rel := range unlisted {
		problems = append(problems, fmt.Sprintf("knative/%s is not listed in knative/kustomization.yaml", rel))
	}
	_, p, err := r.LoadBundle(nil)
	if err != nil {
		return nil, err
	}
	return append(problems, p...), nil
}

// kindConfig is the part of kind-config.yaml the checks read; decoded strictly, so it also
// catches a misspelt field kind would ignore.
type kindConfig struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Name       string `json:"name"`
	Nodes      []struct {
		Role              string `json:"role"`
		ExtraPortMappings []struct {
			ContainerPort int32  `json:"containerPort"`
			HostPort      int32  `json:"hostPort"`
			ListenAddress string `json:"listenAddress"`
			Protocol      string `json:"protocol"`
		} `json:"extraPortMappings"`
	} `json:"nodes"`
}

// CheckKindConfig: the platform manifest for kind (knative/kind/kourier-ingress.yaml) decodes
// strictly, and kind-config.yaml maps its NodePort to host port 80.
func (r *Repo) CheckKindConfig() ([]string, error) {
	const ingress = "knative/kind/kourier-ingress.yaml"
	text, err := r.ReadFile(ingress)
	if err != nil {
		return nil, err
	}
	docs, problems := parseManifest(ingress, []byte(text))
	var svc corev1.Service
	if len(docs) != 1 || decodeStrict(docs[0], &svc) != nil {
		return append(problems, ingress+": expected one Service"), nil
	}
	if svc.Spec.Type != corev1.ServiceTypeNodePort || len(svc.Spec.Ports) != 1 {
		return append(problems, ingress+": kourier-ingress must be a NodePort Service with one port"), nil
	}
	nodePort := svc.Spec.Ports[0].NodePort

	text, err = r.ReadFile("kind-config.yaml")
	if err != nil {
		return nil, err
	}
	var kind kindConfig
	if err := yamlStrict(text, &kind); err != nil {
		return append(problems, fmt.Sprintf("kind-config.yaml: %v", err)), nil
	}
	if kind.Kind != "Cluster" || kind.APIVersion != "kind.x-k8s.io/v1alpha4" {
		return append(problems, "kind-config.yaml: not a kind Cluster config"), nil
	}
	for _, n := range kind.Nodes {
		for _, m := range n.ExtraPortMappings {
			if m.ContainerPort == nodePort && m.HostPort == 80 {
				return problems, nil
			}
		}
	}
	return append(problems, fmt.Sprintf("kind-config.yaml does not map Kourier's NodePort %d to host port 80", nodePort)), nil
}
