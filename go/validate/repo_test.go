package validate

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/yaml"
)

// Namespace is where every Video2Audio object lives.
const Namespace = "video2audio"

// Functions are the five Knative Services, in deploy order.
var Functions = []string{"auth", "upload", "convert", "notify", "expire"}

// httpFunctions answer plain HTTP (readiness on /healthz, public); the others take CloudEvents.
var httpFunctions = map[string]bool{"auth": true, "upload": true}

// secretSettings are the settings that must come from a Secret, never from the ConfigMap
// (team conventions).
var secretSettings = []string{
	"JWT_SECRET", "LINK_SECRET", "WEBHOOK_SECRET", "SMTP_PASSWORD",
	"DATABASE_URL", "MONGO_URL", "RABBITMQ_URL",
}

// repoRoot is the repository root: go/validate is two levels below it.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "knative")); err != nil {
		t.Fatalf("repository root not found from %s: %v", root, err)
	}
	return root
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

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

// kustomizationResources lists knative/kustomization.yaml's resources.
func kustomizationResources(t testing.TB, root string) []string {
	t.Helper()
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, filepath.Join(root, "knative", "kustomization.yaml"))), &k); err != nil {
		t.Fatalf("knative/kustomization.yaml: %v", err)
	}
	return k.Resources
}

// loadBundle reads the manifests listed by knative/kustomization.yaml, with `replace` mapping a
// relative path to another file (used to swap in broken fixtures).
func loadBundle(t testing.TB, root string, replace map[string]string) (*Bundle, []string) {
	t.Helper()
	b := &Bundle{}
	var problems []string
	for _, rel := range kustomizationResources(t, root) {
		path := filepath.Join(root, "knative", rel)
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
	return b, problems
}

// versionsEnv reads scripts/versions.env (KEY=value lines).
func versionsEnv(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(readFile(t, filepath.Join(root, "scripts", "versions.env"))))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("scripts/versions.env: not KEY=value: %q", line)
		}
		out[key] = strings.Trim(value, `"'`)
	}
	return out
}

// Settings are the application's settings as declared in src/video2audio/core/settings.py: the
// upper-cased field name (the environment variable) mapped to its default as written there.
type Settings map[string]string

var settingsField = regexp.MustCompile(`^    ([a-z_][a-z0-9_]*): [^=]+?(?: = (.+))?$`)

func loadSettings(t testing.TB, root string) Settings {
	t.Helper()
	text := readFile(t, filepath.Join(root, "src", "video2audio", "core", "settings.py"))
	start := strings.Index(text, "\nclass Settings")
	if start < 0 {
		t.Fatal("src/video2audio/core/settings.py: class Settings not found")
	}
	out := Settings{}
	for _, line := range strings.Split(text[start:], "\n")[1:] {
		if strings.HasPrefix(line, "    def ") || strings.HasPrefix(line, "    @") {
			break
		}
		if m := settingsField.FindStringSubmatch(line); m != nil {
			value := strings.TrimSpace(m[2])
			if unq, err := strconv.Unquote(value); err == nil {
				value = unq
			}
			out[strings.ToUpper(m[1])] = value
		}
	}
	if len(out) < 10 {
		t.Fatalf("src/video2audio/core/settings.py: only %d settings found", len(out))
	}
	return out
}

// runScript runs scripts/deploy.sh with arguments and returns its standard output.
func runScript(t testing.TB, root string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts", "deploy.sh")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/deploy.sh %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// scriptLines runs deploy.sh and splits its output into lines (the kn argument lists).
func scriptLines(t testing.TB, root string, args ...string) []string {
	t.Helper()
	out := strings.TrimRight(runScript(t, root, nil, args...), "\n")
	return strings.Split(out, "\n")
}

var (
	secretsOnce sync.Once
	secretsDocs []Doc
	secretsErr  []string
)

// generatedSecrets are the Secrets deploy.sh generates, rendered offline (`deploy.sh secrets`).
func generatedSecrets(t testing.TB, root string) []Doc {
	t.Helper()
	secretsOnce.Do(func() {
		secretsDocs, secretsErr = parseManifest("deploy.sh secrets", []byte(runScript(t, root, nil, "secrets")))
	})
	if len(secretsErr) > 0 {
		t.Fatalf("deploy.sh secrets: %v", secretsErr)
	}
	return secretsDocs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// report fails the test with every problem, one per line.
func report(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

// yamlStrict decodes YAML text, refusing unknown fields.
func yamlStrict(text string, into any) error {
	return yaml.UnmarshalStrict([]byte(text), into)
}
