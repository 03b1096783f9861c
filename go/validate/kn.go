package validate

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/kmp"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"
)

// WriteGoToolKn writes an executable script named kn into dir that runs kn as go/go.mod pins it
// (`go tool kn`: the go command builds it once and keeps it in its build cache), and returns its
// path, for scripts/deploy.sh's KN. The script runs in go/, so kn's path arguments must be
// absolute.
func (r *Repo) WriteGoToolKn(dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	script := fmt.Sprintf("#!/bin/sh\n# kn from the tool directive of go/go.mod.\ncd %s || exit 1\nexec %s tool kn \"$@\"\n",
		shellQuote(r.GoDir()), shellQuote(goBin))
	path := filepath.Join(dir, "kn")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		return "", err
	}
	return path, nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// RenderKnServices runs `scripts/deploy.sh render dir` with kn (a command, see WriteGoToolKn):
// `kn service create ... --target dir` for every function, which writes
// dir/<namespace>/ksvc/<fn>.yaml and talks to no cluster.
func (r *Repo) RenderKnServices(kn, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	_, err = r.DeployScript([]string{"KN=" + kn}, "render", abs)
	return err
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

// CheckKnService: the Service deploy.sh creates for fn with `kn service create` (rendered into
// dir by RenderKnServices) validates and is the Service of knative/: image, env, scale,
// concurrency, timeout, probes, resources and labels alike.
func (r *Repo) CheckKnService(b *Bundle, dir, fn string) ([]string, error) {
	schema, err := r.CRDSchema(gvkKService)
	if err != nil {
		return nil, err
	}
	rel := filepath.Join(Namespace, "ksvc", fn+".yaml")
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return nil, fmt.Errorf("kn --target: %w", err)
	}
	docs, problems := parseManifest("kn --target "+rel, data)
	if len(docs) != 1 {
		return append(problems, fmt.Sprintf("kn wrote %d documents for %s", len(docs), fn)), nil
	}
	for _, p := range validateSchema(schema, docs[0].Object, "") {
		problems = append(problems, fmt.Sprintf("kn output: CRD schema: %s", p))
	}
	ctx := apis.WithinCreate(context.Background())
	var fromKn servingv1.Service
	if err := decodeStrict(docs[0], &fromKn); err != nil {
		return append(problems, fmt.Sprintf("kn output: %v", err)), nil
	}
	fromKn.Status = servingv1.ServiceStatus{}
	fromKn.Spec.Template.Annotations = withoutClientAnnotations(fromKn.Spec.Template.Annotations)
	fromKn.SetDefaults(ctx)
	if fe := fromKn.Validate(ctx); fe != nil {
		problems = append(problems, fmt.Sprintf("kn output: Knative validation: %v", fe))
	}

	d, ok := b.Get(gvkKService, Namespace, fn)
	if !ok {
		return append(problems, fmt.Sprintf("knative/services has no Service %s", fn)), nil
	}
	var manifest servingv1.Service
	if err := decodeStrict(d, &manifest); err != nil {
		return append(problems, fmt.Sprintf("%s: %v", d, err)), nil
	}
	manifest.SetDefaults(ctx)

	var diffErr error
	compare := func(what string, manifestValue, knValue any) {
		if diffErr != nil {
			return
		}
		diff, err := kmp.SafeDiff(manifestValue, knValue)
		if err != nil {
			diffErr = fmt.Errorf("comparing %s: %w", what, err)
		} else if diff != "" {
			problems = append(problems, fmt.Sprintf("%s differs between knative/services/%s.yaml and `deploy.sh kn-service-args %s` (-manifest +kn):\n%s", what, fn, fn, diff))
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
	if diffErr != nil {
		return nil, diffErr
	}
	return problems, nil
}

// CheckKnPingSource: the PingSource deploy.sh makes — `kn source ping create` with its arguments
// (created, the JSON kn sent: RenderKnPingSource), then the merge patch for the fields kn has no
// flag for — validates and is the PingSource of knative/eventing/expire-ping.yaml.
func (r *Repo) CheckKnPingSource(b *Bundle, created []byte) ([]string, error) {
	var problems []string
	patch, err := r.DeployScript(nil, "ping-patch")
	if err != nil {
		return nil, err
	}
	patched, err := jsonpatch.MergePatch(created, []byte(strings.TrimSpace(patch)))
	if err != nil {
		return append(problems, fmt.Sprintf("ping-patch: %v", err)), nil
	}
	var got sourcesv1.PingSource
	if err := yaml.UnmarshalStrict(patched, &got); err != nil {
		return append(problems, fmt.Sprintf("kn + patch: %v", err)), nil
	}
	ctx := apis.WithinCreate(context.Background())
	got.SetDefaults(ctx)
	if fe := got.Validate(ctx); fe != nil {
		problems = append(problems, fmt.Sprintf("kn + patch: Knative validation: %v", fe))
	}

	d, ok := b.Get(gvkPing, got.Namespace, got.Name)
	if !ok {
		return append(problems, fmt.Sprintf("knative/ has no PingSource %s/%s (the one kn creates)", got.Namespace, got.Name)), nil
	}
	var want sourcesv1.PingSource
	if err := decodeStrict(d, &want); err != nil {
		return append(problems, fmt.Sprintf("%s: %v", d, err)), nil
	}
	want.SetDefaults(ctx)
	if diff, _ := kmp.SafeDiff(want.Spec, got.Spec); diff != "" {
		problems = append(problems, fmt.Sprintf("PingSource differs between %s and deploy.sh's kn + patch (-manifest +deploy.sh):\n%s", d.File, diff))
	}
	return problems, nil
}
