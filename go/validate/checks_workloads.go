package validate

import (
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rmqsourcev1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"
)

// checkFunctionServices: the per-function requirements of the deployment.
func checkFunctionServices(b *Bundle, versions map[string]string, cm map[string]string) []string {
	var problems []string
	services := b.Find(gvkKService)
	if len(services) != len(Functions) {
		problems = append(problems, fmt.Sprintf("expected %d Knative Services (%v), found %d", len(Functions), Functions, len(services)))
	}
	for _, fn := range Functions {
		d, ok := b.Get(gvkKService, Namespace, fn)
		if !ok {
			problems = append(problems, fmt.Sprintf("Knative Service %s is missing", fn))
			continue
		}
		var s servingv1.Service
		if err := decodeStrict(d, &s); err != nil {
			continue // reported elsewhere
		}
		for k := range s.Annotations {
			if strings.HasPrefix(k, "autoscaling.knative.dev/") {
				problems = append(problems, fmt.Sprintf("%s: annotation %s belongs on spec.template.metadata, not on the Service", d, k))
			}
		}
		tmpl := s.Spec.Template
		ann := tmpl.Annotations
		if ann["autoscaling.knative.dev/max-scale"] == "" {
			problems = append(problems, fmt.Sprintf("%s: spec.template needs autoscaling.knative.dev/max-scale", d))
		}
		if len(tmpl.Spec.Containers) != 1 {
			problems = append(problems, fmt.Sprintf("%s: expected one container", d))
			continue
		}
		c := tmpl.Spec.Containers[0]
		want := fmt.Sprintf("%s/%s%s:%s", versions["IMAGE_REGISTRY"], versions["IMAGE_PREFIX"], fn, versions["IMAGE_TAG"])
		if c.Image != want {
			problems = append(problems, fmt.Sprintf("%s: image %q, but the build produces %q", d, c.Image, want))
		}
		if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image[strings.LastIndex(c.Image, "/")+1:], ":") {
			problems = append(problems, fmt.Sprintf("%s: image needs an explicit tag that is not latest", d))
		}
		if !strings.HasPrefix(c.Image, "dev.local/") && !strings.HasPrefix(c.Image, "kind.local/") {
			problems = append(problems, fmt.Sprintf("%s: image must be under dev.local/ or kind.local/ (no digest resolution for kind-loaded images)", d))
		}
		visibility := s.Labels["networking.knative.dev/visibility"]
		if httpFunctions[fn] {
			if visibility != "" {
				problems = append(problems, fmt.Sprintf("%s: %s is public; no visibility label", d, fn))
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/healthz" {
				problems = append(problems, fmt.Sprintf("%s: HTTP function needs a readinessProbe httpGet /healthz", d))
			}
		} else {
			if visibility != "cluster-local" {
				problems = append(problems, fmt.Sprintf("%s: CloudEvent function needs label networking.knative.dev/visibility: cluster-local", d))
			}
			if c.ReadinessProbe != nil {
				problems = append(problems, fmt.Sprintf("%s: CloudEvent function keeps Knative's default TCP readiness probe (GET answers 405)", d))
			}
		}
		if sc := c.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			problems = append(problems, fmt.Sprintf("%s: container must set securityContext.runAsNonRoot", d))
		}
		cc := int64(0)
		if tmpl.Spec.ContainerConcurrency != nil {
			cc = *tmpl.Spec.ContainerConcurrency
		}
		timeout := int64(0)
		if tmpl.Spec.TimeoutSeconds != nil {
			timeout = *tmpl.Spec.TimeoutSeconds
		}
		switch fn {
		case "auth":
			if ann["autoscaling.knative.dev/min-scale"] != "1" {
				problems = append(problems, fmt.Sprintf("%s: auth needs min-scale \"1\" (logins never cold)", d))
			}
		case "convert":
			if cc != 1 {
				problems = append(problems, fmt.Sprintf("%s: convert needs containerConcurrency 1, has %d", d, cc))
			}
			if timeout != 600 {
				problems = append(problems, fmt.Sprintf("%s: convert needs timeoutSeconds 600, has %d", d, timeout))
			}
			if limit, err := strconv.Atoi(cm["CONVERT_TIMEOUT_SECONDS"]); err != nil || int64(limit) >= timeout {
				problems = append(problems, fmt.Sprintf("%s: CONVERT_TIMEOUT_SECONDS (%s) must be below timeoutSeconds (%d)", d, cm["CONVERT_TIMEOUT_SECONDS"], timeout))
			}
			maxScale, _ := strconv.Atoi(ann["autoscaling.knative.dev/max-scale"])
			for _, src := range b.Find(gvkRabbitmqSrc) {
				var rs rmqsourcev1alpha1.RabbitmqSource
				if decodeStrict(src, &rs) != nil || rs.Spec.Sink == nil || rs.Spec.Sink.Ref == nil || rs.Spec.Sink.Ref.Name != fn {
					continue
				}
				if cfg := rs.Spec.RabbitmqResourcesConfig; cfg != nil && cfg.Parallelism != nil && *cfg.Parallelism > maxScale {
					problems = append(problems, fmt.Sprintf("%s: parallelism %d exceeds convert's capacity (max-scale %d x containerConcurrency 1); the rest would wait in the activator", src, *cfg.Parallelism, maxScale))
				}
			}
		}
	}
	return problems
}

// checkDataServices: images pinned in versions.env, RabbitMQ sized for kind.
func checkDataServices(b *Bundle, versions map[string]string) []string {
	var problems []string
	wantImages := map[string]string{
		"postgres": versions["POSTGRES_IMAGE"],
		"mongodb":  versions["MONGODB_IMAGE"],
		"mailpit":  versions["MAILPIT_IMAGE"],
	}
	for where, spec := range podSpecs(b) {
		for _, c := range spec.Containers {
			if want, ok := wantImages[c.Name]; ok && c.Image != want {
				problems = append(problems, fmt.Sprintf("%s: image %q differs from scripts/versions.env %q", where, c.Image, want))
			}
		}
	}
	for _, name := range []string{"postgres", "mongodb"} {
		d, ok := b.Get(gvkStatefulSet, Namespace, name)
		if !ok {
			problems = append(problems, fmt.Sprintf("StatefulSet %s is missing", name))
			continue
		}
		var s appsv1.StatefulSet
		if decodeStrict(d, &s) != nil {
			continue
		}
		if len(s.Spec.VolumeClaimTemplates) == 0 {
			problems = append(problems, fmt.Sprintf("%s: needs a volumeClaimTemplate", d))
		}
		if _, ok := b.Get(gvkCoreService, Namespace, s.Spec.ServiceName); !ok {
			problems = append(problems, fmt.Sprintf("%s: serviceName %q has no Service", d, s.Spec.ServiceName))
		}
	}
	clusters := b.Find(gvkCluster)
	if len(clusters) != 1 {
		return append(problems, fmt.Sprintf("expected one RabbitmqCluster, found %d", len(clusters)))
	}
	var cluster struct {
		Spec struct {
			Replicas  *int                        `json:"replicas"`
			Image     string                      `json:"image"`
			Resources corev1.ResourceRequirements `json:"resources"`
			Rabbitmq  struct {
				AdditionalConfig string `json:"additionalConfig"`
			} `json:"rabbitmq"`
		} `json:"spec"`
	}
	d := clusters[0]
	if err := yaml.Unmarshal(d.JSON, &cluster); err != nil {
		return append(problems, fmt.Sprintf("%s: %v", d, err))
	}
	if cluster.Spec.Image != versions["RABBITMQ_IMAGE"] {
		problems = append(problems, fmt.Sprintf("%s: image %q differs from scripts/versions.env %q", d, cluster.Spec.Image, versions["RABBITMQ_IMAGE"]))
	}
	if cluster.Spec.Replicas == nil || *cluster.Spec.Replicas != 1 {
		problems = append(problems, fmt.Sprintf("%s: one replica on kind", d))
	}
	if mem, ok := cluster.Spec.Resources.Limits[corev1.ResourceMemory]; !ok || mem.Value() > 2<<30 {
		problems = append(problems, fmt.Sprintf("%s: needs a memory limit of at most 2Gi for kind", d))
	}
	// consumer_timeout and the disk limit: checkRabbitmqCluster.
	return problems
}
