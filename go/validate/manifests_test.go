package validate

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// allChecks runs every manifest check on a bundle and returns the problems found.
func allChecks(t *testing.T, root string, b *Bundle) []string {
	t.Helper()
	versions := versionsEnv(t, root)
	settings := loadSettings(t, root)
	secrets := generatedSecrets(t, root)
	var cm corev1.ConfigMap
	if d, ok := b.Get(gvkConfigMap, Namespace, "video2audio-settings"); ok {
		_ = decodeStrict(d, &cm)
	}
	schemaOf := func(gvk string) *Schema { return crdSchema(t, gvk) }
	var problems []string
	problems = append(problems, checkKinds(b, readFile(t, filepath.Join(root, "scripts", "deploy.sh")))...)
	problems = append(problems, checkKnativeAPI(b, schemaOf)...)
	problems = append(problems, checkTypedObjects(b)...)
	problems = append(problems, checkSinks(b)...)
	problems = append(problems, checkMessaging(b, settings)...)
	problems = append(problems, checkReferences(b, secrets)...)
	problems = append(problems, checkSettings(b, settings, secrets)...)
	problems = append(problems, checkFunctionServices(b, versions, settings, cm.Data)...)
	problems = append(problems, checkDataServices(b, versions)...)
	return problems
}

func TestKustomizationListsEveryManifestAndEachParses(t *testing.T) {
	root := repoRoot(t)
	listed := map[string]bool{}
	for _, rel := range kustomizationResources(t, root) {
		listed[rel] = true
	}
	var unlisted []string
	err := filepath.WalkDir(filepath.Join(root, "knative"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(root, "knative"), path)
		// kind/ holds cluster plumbing deploy.sh applies on kind only.
		if rel == "kustomization.yaml" {
			return nil
		}
		if strings.HasPrefix(rel, "kind/") {
			docs, problems := parseManifest("knative/"+rel, []byte(readFile(t, path)))
			report(t, problems)
			if len(docs) == 0 {
				t.Errorf("knative/%s: no manifest", rel)
			}
			return nil
		}
		if !listed[rel] {
			unlisted = append(unlisted, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(unlisted)
	for _, rel := range unlisted {
		t.Errorf("knative/%s is not listed in knative/kustomization.yaml", rel)
	}
	_, problems := loadBundle(t, root, nil)
	report(t, problems)
}

func TestManifestsPassAllChecks(t *testing.T) {
	root := repoRoot(t)
	b, problems := loadBundle(t, root, nil)
	report(t, problems)
	report(t, allChecks(t, root, b))
}

// The platform manifest for kind decodes strictly and matches kind-config.yaml's port mapping.
func TestKindConfigMapsKourierNodePort(t *testing.T) {
	root := repoRoot(t)
	docs, problems := parseManifest("knative/kind/kourier-ingress.yaml", []byte(readFile(t, filepath.Join(root, "knative", "kind", "kourier-ingress.yaml"))))
	report(t, problems)
	var svc corev1.Service
	if len(docs) != 1 || decodeStrict(docs[0], &svc) != nil {
		t.Fatal("knative/kind/kourier-ingress.yaml: expected one Service")
	}
	if svc.Spec.Type != corev1.ServiceTypeNodePort || len(svc.Spec.Ports) != 1 {
		t.Fatalf("kourier-ingress must be a NodePort Service with one port")
	}
	nodePort := svc.Spec.Ports[0].NodePort

	var kind struct {
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
	if err := yamlStrict(readFile(t, filepath.Join(root, "kind-config.yaml")), &kind); err != nil {
		t.Fatalf("kind-config.yaml: %v", err)
	}
	if kind.Kind != "Cluster" || kind.APIVersion != "kind.x-k8s.io/v1alpha4" {
		t.Fatalf("kind-config.yaml: not a kind Cluster config")
	}
	found := false
	for _, n := range kind.Nodes {
		for _, m := range n.ExtraPortMappings {
			if m.ContainerPort == nodePort && m.HostPort == 80 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("kind-config.yaml does not map Kourier's NodePort %d to host port 80", nodePort)
	}
}
