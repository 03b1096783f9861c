package validate

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// knative/monitoring/ is applied only where the Prometheus Operator runs, so it is not in
// knative/kustomization.yaml; these are its kinds and the objects it must hold.
const (
	monitoringDir      = "knative/monitoring"
	gvkPodMonitor      = "monitoring.coreos.com/v1/PodMonitor"
	gvkPrometheusRule  = "monitoring.coreos.com/v1/PrometheusRule"
	prometheusRuleFile = monitoringDir + "/prometheus-rule.yaml"
	rulesDir           = "monitoring/rules"
	ruleTestsDir       = "monitoring/tests"
	// The Secret and key the functions read METRICS_TOKEN from (scripts/deploy.sh generates it).
	metricsSecret, metricsSecretKey = "video2audio-secrets", "METRICS_TOKEN"
	// Knative's name for the user container's port in a revision's pods.
	userPortName = "user-port"
)

// The part of the Prometheus Operator's monitoring.coreos.com/v1 API the manifests use, decoded
// strictly so a misspelt field fails here. (The operator's own Go module would bring Kubernetes
// libraries newer than the ones Knative's modules build with, so it is not imported.)
type secretKeySelector struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type relabelConfig struct {
	Action       string   `json:"action,omitempty"`
	SourceLabels []string `json:"sourceLabels,omitempty"`
	TargetLabel  string   `json:"targetLabel,omitempty"`
	Replacement  *string  `json:"replacement,omitempty"`
	Regex        string   `json:"regex,omitempty"`
}

type podMetricsEndpoint struct {
	Port          string `json:"port"`
	Path          string `json:"path"`
	Interval      string `json:"interval,omitempty"`
	Authorization *struct {
		Type        string             `json:"type"`
		Credentials *secretKeySelector `json:"credentials"`
	} `json:"authorization,omitempty"`
	Relabelings []relabelConfig `json:"relabelings,omitempty"`
}

type labelSelector struct {
	MatchLabels      map[string]string `json:"matchLabels,omitempty"`
	MatchExpressions []struct {
		Key      string   `json:"key"`
		Operator string   `json:"operator"`
		Values   []string `json:"values"`
	} `json:"matchExpressions,omitempty"`
}

type podMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels,omitempty"`
	} `json:"metadata"`
	Spec struct {
		Selector            labelSelector        `json:"selector"`
		PodMetricsEndpoints []podMetricsEndpoint `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

type ruleGroups struct {
	Groups []map[string]any `json:"groups"`
}

type prometheusRule struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels,omitempty"`
	} `json:"metadata"`
	Spec ruleGroups `json:"spec"`
}

// CheckMonitoring: knative/monitoring/ lists every file in its kustomization; every object is a
// PodMonitor, PrometheusRule or NetworkPolicy in the Video2Audio namespace and decodes strictly;
// the functions' PodMonitor selects exactly the five functions' pods on Knative's user port with
// the metrics Secret and the job/function labels of the local Prometheus; the PrometheusRule is
// monitoring/rules/ as RenderPrometheusRule renders it.
func (r *Repo) CheckMonitoring() ([]string, error) {
	docs, problems, err := r.monitoringDocs()
	if err != nil {
		return nil, err
	}
	var functionMonitors int
	for _, d := range docs {
		if d.Namespace != Namespace {
			problems = append(problems, fmt.Sprintf("%s: metadata.namespace must be %q", d, Namespace))
		}
		switch d.GVK() {
		case gvkPodMonitor:
			var pm podMonitor
			if err := decodeStrict(d, &pm); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", d, err))
				continue
			}
			if selectsFunctions(pm.Spec.Selector) {
				functionMonitors++
				problems = append(problems, checkFunctionsMonitor(d, pm)...)
			}
		case gvkPrometheusRule:
			var pr prometheusRule
			if err := decodeStrict(d, &pr); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", d, err))
			}
		case gvkNetPolicy:
			var np networkingv1.NetworkPolicy
			if err := decodeStrict(d, &np); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", d, err))
			}
		default:
			problems = append(problems, fmt.Sprintf("%s: %s does not belong in %s", d, d.GVK(), monitoringDir))
		}
	}
	if functionMonitors != 1 {
		problems = append(problems, fmt.Sprintf("%s: want one PodMonitor selecting the five functions' pods, found %d", monitoringDir, functionMonitors))
	}
	want, err := r.RenderPrometheusRule()
	if err != nil {
		return nil, err
	}
	if got, err := r.ReadFile(prometheusRuleFile); err != nil || got != want {
		problems = append(problems, fmt.Sprintf("%s is not monitoring/rules/ as rendered: run `make prometheus-rule`", prometheusRuleFile))
	}
	return problems, nil
}

// monitoringDocs reads knative/monitoring/ as its kustomization lists it; the problems are files
// that are not listed, do not parse, or are listed but missing.
func (r *Repo) monitoringDocs() ([]Doc, []string, error) {
	text, err := r.ReadFile(monitoringDir + "/kustomization.yaml")
	if err != nil {
		return nil, nil, err
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal([]byte(text), &k); err != nil {
		return nil, nil, fmt.Errorf("%s/kustomization.yaml: %w", monitoringDir, err)
	}
	var docs []Doc
	var problems []string
	onDisk := map[string]bool{}
	err = filepath.WalkDir(r.Path(monitoringDir), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") && d.Name() != "kustomization.yaml" {
			onDisk[d.Name()] = true
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for _, rel := range k.Resources {
		data, err := r.ReadFile(monitoringDir + "/" + rel)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		delete(onDisk, rel)
		d, p := parseManifest(monitoringDir+"/"+rel, []byte(data))
		docs = append(docs, d...)
		problems = append(problems, p...)
	}
	for _, name := range slices.Sorted(maps.Keys(onDisk)) {
		problems = append(problems, fmt.Sprintf("%s/%s is not listed in %s/kustomization.yaml", monitoringDir, name, monitoringDir))
	}
	return docs, problems, nil
}

// selectsFunctions: the selector names pods by their Knative Service label.
func selectsFunctions(s labelSelector) bool {
	for _, e := range s.MatchExpressions {
		if e.Key == "serving.knative.dev/service" {
			return true
		}
	}
	_, ok := s.MatchLabels["serving.knative.dev/service"]
	return ok
}

func checkFunctionsMonitor(d Doc, pm podMonitor) []string {
	var problems []string
	for _, e := range pm.Spec.Selector.MatchExpressions {
		got := slices.Sorted(slices.Values(e.Values))
		if e.Key == "serving.knative.dev/service" && (e.Operator != "In" || !slices.Equal(got, slices.Sorted(slices.Values(Functions)))) {
			problems = append(problems, fmt.Sprintf("%s: must select serving.knative.dev/service In %v, not %s %v", d, Functions, e.Operator, e.Values))
		}
	}
	if len(pm.Spec.PodMetricsEndpoints) != 1 {
		return append(problems, fmt.Sprintf("%s: want one podMetricsEndpoint", d))
	}
	ep := pm.Spec.PodMetricsEndpoints[0]
	if ep.Port != userPortName || ep.Path != "/metrics" {
		problems = append(problems, fmt.Sprintf("%s: the functions serve /metrics on Knative's %q port, not %q %q", d, userPortName, ep.Port, ep.Path))
	}
	if a := ep.Authorization; a == nil || a.Type != "Bearer" || a.Credentials == nil ||
		*a.Credentials != (secretKeySelector{metricsSecret, metricsSecretKey}) {
		problems = append(problems, fmt.Sprintf("%s: needs authorization Bearer from Secret %s key %s (METRICS_TOKEN)", d, metricsSecret, metricsSecretKey))
	}
	labels := map[string]string{}
	for _, rc := range ep.Relabelings {
		switch {
		case rc.Replacement != nil && len(rc.SourceLabels) == 0:
			labels[rc.TargetLabel] = *rc.Replacement
		case slices.Equal(rc.SourceLabels, []string{"__meta_kubernetes_pod_label_serving_knative_dev_service"}):
			labels[rc.TargetLabel] = "<service>"
		}
	}
	if labels["job"] != "video2audio" || labels["function"] != "<service>" {
		problems = append(problems, fmt.Sprintf("%s: relabel to job=video2audio and function=<Knative Service> (the rules and the dashboard use them)", d))
	}
	return problems
}

// RenderPrometheusRule renders monitoring/rules/*.yml (in name order) as one PrometheusRule, the
// files' groups copied as they are written (comments included), so one source serves the local
// Prometheus, promtool's tests and the cluster.
func (r *Repo) RenderPrometheusRule() (string, error) {
	files, err := filepath.Glob(r.Path(rulesDir + "/*.yml"))
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	var b strings.Builder
	b.WriteString(`# GENERATED from monitoring/rules/*.yml by ` + "`make prometheus-rule`" + `: edit those files, not this one.
# The Prometheus Operator loads these rules (go/validate checks this file equals the rendering).
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: video2audio
  namespace: video2audio
  labels:
    app.kubernetes.io/part-of: video2audio
spec:
  groups:
`)
	var all []map[string]any
	for _, path := range files {
		rel := rulesDir + "/" + filepath.Base(path)
		text, err := r.ReadFile(rel)
		if err != nil {
			return "", err
		}
		var groups ruleGroups
		if err := yaml.UnmarshalStrict([]byte(text), &groups); err != nil || len(groups.Groups) == 0 {
			return "", fmt.Errorf("%s: not a rules file with groups: %v", rel, err)
		}
		all = append(all, groups.Groups...)
		_, body, ok := strings.Cut("\n"+text, "\ngroups:\n")
		if !ok {
			return "", fmt.Errorf("%s: `groups:` must be a top-level line of its own", rel)
		}
		fmt.Fprintf(&b, "    # from %s\n", rel)
		for _, line := range strings.SplitAfter(body, "\n") {
			if strings.TrimSpace(line) == "" {
				b.WriteString(strings.TrimLeft(line, " "))
				continue
			}
			b.WriteString("  " + line)
		}
	}
	// The text copy must mean what the files mean.
	var rendered prometheusRule
	if err := yaml.UnmarshalStrict([]byte(b.String()), &rendered); err != nil {
		return "", fmt.Errorf("rendered PrometheusRule: %w", err)
	}
	if !sameJSON(rendered.Spec.Groups, all) {
		return "", fmt.Errorf("rendered PrometheusRule: its groups differ from %s", rulesDir)
	}
	return b.String(), nil
}

func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	var va, vb any
	return errA == nil && errB == nil && json.Unmarshal(ja, &va) == nil && json.Unmarshal(jb, &vb) == nil && reflect.DeepEqual(va, vb)
}

// CheckRuleTests: every alert of monitoring/rules/ has, in monitoring/tests/, a promtool test
// case where it fires (expected alerts) and one where it does not (an empty exp_alerts).
func (r *Repo) CheckRuleTests() ([]string, error) {
	files, err := filepath.Glob(r.Path(rulesDir + "/*.yml"))
	if err != nil {
		return nil, err
	}
	var alerts []string
	for _, path := range files {
		var groups ruleGroups
		data, err := r.ReadFile(rulesDir + "/" + filepath.Base(path))
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal([]byte(data), &groups); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, g := range groups.Groups {
			rules, _ := g["rules"].([]any)
			for _, rule := range rules {
				if name, ok := rule.(map[string]any)["alert"].(string); ok {
					alerts = append(alerts, name)
				}
			}
		}
	}
	tests, err := filepath.Glob(r.Path(ruleTestsDir + "/*.test.yml"))
	if err != nil {
		return nil, err
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, path := range tests {
		var file struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string `json:"alertname"`
					ExpAlerts []any  `json:"exp_alerts"`
				} `json:"alert_rule_test"`
			} `json:"tests"`
		}
		data, err := r.ReadFile(ruleTestsDir + "/" + filepath.Base(path))
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal([]byte(data), &file); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, t := range file.Tests {
			for _, a := range t.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					silent[a.Alertname] = true
				}
			}
		}
	}
	var problems []string
	for _, name := range alerts {
		if !fires[name] {
			problems = append(problems, fmt.Sprintf("alert %s: no test in %s where it fires", name, ruleTestsDir))
		}
		if !silent[name] {
			problems = append(problems, fmt.Sprintf("alert %s: no test in %s where it stays silent", name, ruleTestsDir))
		}
	}
	if len(alerts) == 0 {
		problems = append(problems, rulesDir+": no alerting rules found")
	}
	return problems, nil
}
