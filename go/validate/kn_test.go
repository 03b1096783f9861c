package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/kmp"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"
)

var (
	knOnce sync.Once
	knPath string
	knErr  error
)

// ensureKn builds kn from knative.dev/client (the `tool` of go/go.mod, so the version is pinned
// there) into .run/bin/kn (or $KN_BIN), unless a build newer than go.sum is already there.
func ensureKn(t testing.TB, root string) string {
	t.Helper()
	knOnce.Do(func() {
		knPath = filepath.Join(root, ".run", "bin", "kn")
		if p := os.Getenv("KN_BIN"); p != "" {
			knPath = p
		}
		sum, err := os.Stat(filepath.Join(root, "go", "go.sum"))
		if err != nil {
			knErr = err
			return
		}
		if bin, err := os.Stat(knPath); err == nil && bin.ModTime().After(sum.ModTime()) {
			return
		}
		if err := os.MkdirAll(filepath.Dir(knPath), 0o755); err != nil {
			knErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", knPath, "knative.dev/client/cmd/kn")
		cmd.Dir = filepath.Join(root, "go")
		if out, err := cmd.CombinedOutput(); err != nil {
			knErr = fmt.Errorf("building kn: %v\n%s", err, out)
		}
	})
	if knErr != nil {
		t.Fatal(knErr)
	}
	return knPath
}

// withoutClientAnnotations drops what kn adds for itself (a timestamp, the image as typed).
func withoutClientAnnotations(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.HasPrefix(k, "client.knative.dev/") || k == "video2audio.dev/kn-args-sha256" {
			continue
		}
		out[k] = v
	}
	return out
}

// The Services deploy.sh creates with `kn service create` (rendered offline with --target)
// validate and are the Services of knative/: image, env, scale, concurrency, timeout, probes,
// resources and labels alike.
func TestKnServiceCreateMatchesManifests(t *testing.T) {
	root := repoRoot(t)
	kn := ensureKn(t, root)
	dir := t.TempDir()
	runScript(t, root, []string{"PATH=" + filepath.Dir(kn) + string(os.PathListSeparator) + os.Getenv("PATH")}, "render", dir)
	b, problems := loadBundle(t, root, nil)
	report(t, problems)
	ctx := apis.WithinCreate(context.Background())
	schema := crdSchema(t, gvkKService)

	for _, fn := range Functions {
		t.Run(fn, func(t *testing.T) {
			rel := filepath.Join(Namespace, "ksvc", fn+".yaml")
			docs, problems := parseManifest("kn --target "+rel, []byte(readFile(t, filepath.Join(dir, rel))))
			report(t, problems)
			if len(docs) != 1 {
				t.Fatalf("kn wrote %d documents", len(docs))
			}
			for _, p := range validateSchema(schema, docs[0].Object, "") {
				t.Errorf("kn output: CRD schema: %s", p)
			}
			var fromKn servingv1.Service
			if err := decodeStrict(docs[0], &fromKn); err != nil {
				t.Fatalf("kn output: %v", err)
			}
			fromKn.Status = servingv1.ServiceStatus{}
			fromKn.Spec.Template.Annotations = withoutClientAnnotations(fromKn.Spec.Template.Annotations)
			fromKn.SetDefaults(ctx)
			if fe := fromKn.Validate(ctx); fe != nil {
				t.Errorf("kn output: Knative validation: %v", fe)
			}

			d, ok := b.Get(gvkKService, Namespace, fn)
			if !ok {
				t.Fatalf("knative/services has no Service %s", fn)
			}
			var manifest servingv1.Service
			if err := decodeStrict(d, &manifest); err != nil {
				t.Fatal(err)
			}
			manifest.SetDefaults(ctx)

			compare := func(what string, manifestValue, knValue any) {
				diff, err := kmp.SafeDiff(manifestValue, knValue)
				if err != nil {
					t.Fatal(err)
				}
				if diff != "" {
					t.Errorf("%s differs between knative/services/%s.yaml and `deploy.sh kn-service-args %s` (-manifest +kn):\n%s", what, fn, fn, diff)
				}
			}
			compare("metadata.labels", manifest.Labels, fromKn.Labels)
			compare("metadata.annotations", withoutClientAnnotations(manifest.Annotations), withoutClientAnnotations(fromKn.Annotations))
			compare("spec.template.metadata", manifest.Spec.Template.ObjectMeta, fromKn.Spec.Template.ObjectMeta)
			c1, c2 := manifest.Spec.Template.Spec.Containers, fromKn.Spec.Template.Spec.Containers
			if len(c1) == 1 && len(c2) == 1 {
				compare("image", c1[0].Image, c2[0].Image)
				compare("env/envFrom", [2]any{c1[0].Env, c1[0].EnvFrom}, [2]any{c2[0].Env, c2[0].EnvFrom})
			}
			compare("scale (autoscaling annotations)", manifest.Spec.Template.Annotations, fromKn.Spec.Template.Annotations)
			compare("containerConcurrency", manifest.Spec.Template.Spec.ContainerConcurrency, fromKn.Spec.Template.Spec.ContainerConcurrency)
			compare("timeoutSeconds", manifest.Spec.Template.Spec.TimeoutSeconds, fromKn.Spec.Template.Spec.TimeoutSeconds)
			compare("spec (everything else)", manifest.Spec, fromKn.Spec)
		})
	}
}

// parseKnArgs splits a kn argument list (NAME, then --flag value pairs) into the name and flags.
func parseKnArgs(t testing.TB, args []string) (string, map[string][]string) {
	t.Helper()
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		t.Fatalf("kn arguments must start with the name: %q", args)
	}
	flags := map[string][]string{}
	for i := 1; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "--") || i+1 >= len(args) {
			t.Fatalf("kn arguments: expected --flag value at %q", args[i:])
		}
		flags[args[i]] = append(flags[args[i]], args[i+1])
		i++
	}
	return args[0], flags
}

// The PingSource deploy.sh makes — `kn source ping create` plus the merge patch for the fields kn
// has no flag for — is the PingSource of knative/eventing/expire-ping.yaml, and validates.
func TestKnPingSourceMatchesManifest(t *testing.T) {
	root := repoRoot(t)
	name, flags := parseKnArgs(t, scriptLines(t, root, "kn-ping-args"))
	known := map[string]bool{"--namespace": true, "--schedule": true, "--data": true, "--sink": true}
	for f := range flags {
		if !known[f] {
			t.Errorf("kn-ping-args: %s is not modelled by this test", f)
		}
	}
	ns := flags["--namespace"][0]
	sink := flags["--sink"][0]
	svc, ok := strings.CutPrefix(sink, "ksvc:")
	if !ok || strings.Contains(svc, ":") {
		t.Fatalf("kn-ping-args: --sink %q must be ksvc:<service> in the same namespace", sink)
	}
	// What kn sends: the spec from its flags, the sink resolved to a Knative Service ref.
	fromKn := map[string]any{
		"apiVersion": "sources.knative.dev/v1",
		"kind":       "PingSource",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"schedule": flags["--schedule"][0],
			"data":     flags["--data"][0],
			"sink": map[string]any{"ref": map[string]any{
				"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": svc, "namespace": ns,
			}},
		},
	}
	raw, _ := json.Marshal(fromKn)
	patched, err := jsonpatch.MergePatch(raw, []byte(strings.TrimSpace(runScript(t, root, nil, "ping-patch"))))
	if err != nil {
		t.Fatalf("ping-patch: %v", err)
	}
	var got sourcesv1.PingSource
	if err := yaml.UnmarshalStrict(patched, &got); err != nil {
		t.Fatalf("kn + patch: %v", err)
	}
	ctx := apis.WithinCreate(context.Background())
	got.SetDefaults(ctx)
	if fe := got.Validate(ctx); fe != nil {
		t.Errorf("kn + patch: Knative validation: %v", fe)
	}

	b, problems := loadBundle(t, root, nil)
	report(t, problems)
	d, ok := b.Get(gvkPing, ns, name)
	if !ok {
		t.Fatalf("knative/ has no PingSource %s/%s", ns, name)
	}
	var want sourcesv1.PingSource
	if err := decodeStrict(d, &want); err != nil {
		t.Fatal(err)
	}
	want.SetDefaults(ctx)
	if diff, _ := kmp.SafeDiff(want.Spec, got.Spec); diff != "" {
		t.Errorf("PingSource differs between %s and deploy.sh's kn + patch (-manifest +deploy.sh):\n%s", d.File, diff)
	}
}
