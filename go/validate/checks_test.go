package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rmqsourcev1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
	rmqv1beta1 "knative.dev/eventing-rabbitmq/third_party/pkg/apis/rabbitmq.com/v1beta1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"

	"github.com/video2audio/video2audio/go/internal/delivery"
)

// The apiVersion/kinds the manifests may use, each with the install step of scripts/deploy.sh
// that provides it ("" = built into Kubernetes).
var installedKinds = map[string]string{
	"v1/Namespace":                                "",
	"v1/ConfigMap":                                "",
	"v1/Secret":                                   "",
	"v1/Service":                                  "",
	"apps/v1/StatefulSet":                         "",
	"apps/v1/Deployment":                          "",
	"serving.knative.dev/v1/Service":              "serving/releases/download/$KNATIVE_SERVING_VERSION/serving-core.yaml",
	"sources.knative.dev/v1/PingSource":           "eventing/releases/download/$KNATIVE_EVENTING_VERSION/eventing-core.yaml",
	"sources.knative.dev/v1alpha1/RabbitmqSource": "eventing-rabbitmq/releases/download/$EVENTING_RABBITMQ_VERSION/rabbitmq-source.yaml",
	"rabbitmq.com/v1beta1/RabbitmqCluster":        "cluster-operator/releases/download/$RABBITMQ_CLUSTER_OPERATOR_VERSION/cluster-operator.yml",
	"rabbitmq.com/v1beta1/Exchange":               "messaging-topology-operator/releases/download/$RABBITMQ_TOPOLOGY_OPERATOR_VERSION/messaging-topology-operator-with-certmanager.yaml",
	"rabbitmq.com/v1beta1/Queue":                  "messaging-topology-operator/releases/download/$RABBITMQ_TOPOLOGY_OPERATOR_VERSION/messaging-topology-operator-with-certmanager.yaml",
	"rabbitmq.com/v1beta1/Binding":                "messaging-topology-operator/releases/download/$RABBITMQ_TOPOLOGY_OPERATOR_VERSION/messaging-topology-operator-with-certmanager.yaml",
}

const (
	gvkKService    = "serving.knative.dev/v1/Service"
	gvkPing        = "sources.knative.dev/v1/PingSource"
	gvkRabbitmqSrc = "sources.knative.dev/v1alpha1/RabbitmqSource"
	gvkCluster     = "rabbitmq.com/v1beta1/RabbitmqCluster"
	gvkExchange    = "rabbitmq.com/v1beta1/Exchange"
	gvkQueue       = "rabbitmq.com/v1beta1/Queue"
	gvkBinding     = "rabbitmq.com/v1beta1/Binding"
	gvkConfigMap   = "v1/ConfigMap"
	gvkSecret      = "v1/Secret"
	gvkStatefulSet = "apps/v1/StatefulSet"
	gvkDeployment  = "apps/v1/Deployment"
	gvkCoreService = "v1/Service"
)

// decodeStrict decodes a document into an API type, refusing fields the type does not have.
func decodeStrict(d Doc, into any) error {
	return yaml.UnmarshalStrict(d.JSON, into)
}

// checkKinds: every kind is one that Kubernetes has or deploy.sh installs, and every object is
// in the Video2Audio namespace.
func checkKinds(b *Bundle, deployScript string) []string {
	var problems []string
	for _, d := range b.Docs {
		marker, ok := installedKinds[d.GVK()]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: %s is not a kind deploy.sh installs", d, d.GVK()))
		case marker != "" && !strings.Contains(deployScript, marker):
			problems = append(problems, fmt.Sprintf("%s: deploy.sh does not install %s (%s)", d, d.GVK(), marker))
		}
		if d.Kind != "Namespace" && d.Namespace != Namespace {
			problems = append(problems, fmt.Sprintf("%s: metadata.namespace must be %q", d, Namespace))
		}
	}
	return problems
}

// checkKnativeAPI decodes every Knative object into Knative's own Go type, applies its
// SetDefaults and runs its Validate, as the Knative webhooks do on create; and checks each
// custom object against its CRD's schema.
func checkKnativeAPI(b *Bundle, schemaOf func(gvk string) *Schema) []string {
	var problems []string
	ctx := apis.WithinCreate(context.Background())
	for _, d := range b.Docs {
		var obj interface {
			apis.Defaultable
			apis.Validatable
		}
		switch d.GVK() {
		case gvkKService:
			obj = &servingv1.Service{}
		case gvkPing:
			obj = &sourcesv1.PingSource{}
		case gvkRabbitmqSrc:
			obj = &rmqsourcev1alpha1.RabbitmqSource{}
		default:
			continue
		}
		if s := schemaOf(d.GVK()); s != nil {
			for _, p := range validateSchema(s, d.Object, "") {
				problems = append(problems, fmt.Sprintf("%s: CRD schema: %s", d, strings.TrimPrefix(p, ".")))
			}
		}
		if err := decodeStrict(d, obj); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", d, err))
			continue
		}
		obj.SetDefaults(ctx)
		if fe := obj.Validate(ctx); fe != nil {
			problems = append(problems, fmt.Sprintf("%s: Knative validation: %v", d, fe))
		}
	}
	return problems
}

// checkTypedObjects decodes the Kubernetes and RabbitMQ objects strictly into their Go types, so
// a misspelt or misplaced field fails here instead of being dropped by the API server.
func checkTypedObjects(b *Bundle) []string {
	var problems []string
	for _, d := range b.Docs {
		var obj any
		switch d.GVK() {
		case gvkConfigMap:
			obj = &corev1.ConfigMap{}
		case gvkSecret:
			obj = &corev1.Secret{}
		case gvkCoreService:
			obj = &corev1.Service{}
		case "v1/Namespace":
			obj = &corev1.Namespace{}
		case gvkStatefulSet:
			obj = &appsv1.StatefulSet{}
		case gvkDeployment:
			obj = &appsv1.Deployment{}
		case gvkExchange:
			obj = &rmqv1beta1.Exchange{}
		case gvkQueue:
			obj = &rmqv1beta1.Queue{}
		case gvkBinding:
			obj = &rmqv1beta1.Binding{}
		default:
			continue
		}
		if err := decodeStrict(d, obj); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", d, err))
		}
	}
	return problems
}

// sinkOf returns a source's sink (PingSource or RabbitmqSource) and the source's namespace.
func sinkOf(d Doc) (*duckv1.Destination, error) {
	switch d.GVK() {
	case gvkPing:
		var s sourcesv1.PingSource
		if err := decodeStrict(d, &s); err != nil {
			return nil, err
		}
		return &s.Spec.Sink, nil
	case gvkRabbitmqSrc:
		var s rmqsourcev1alpha1.RabbitmqSource
		if err := decodeStrict(d, &s); err != nil {
			return nil, err
		}
		return s.Spec.Sink, nil
	}
	return nil, nil
}

// checkSinks: every source's sink is a Knative Service defined in knative/ (a ref, not a URI,
// so the address follows the Service).
func checkSinks(b *Bundle) []string {
	var problems []string
	for _, d := range append(b.Find(gvkPing), b.Find(gvkRabbitmqSrc)...) {
		sink, err := sinkOf(d)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", d, err))
			continue
		}
		if sink == nil || sink.Ref == nil {
			problems = append(problems, fmt.Sprintf("%s: spec.sink.ref is required (a Knative Service)", d))
			continue
		}
		if sink.URI != nil {
			problems = append(problems, fmt.Sprintf("%s: spec.sink.uri set; use only the ref", d))
		}
		ref := sink.Ref
		if ref.APIVersion != "serving.knative.dev/v1" || ref.Kind != "Service" {
			problems = append(problems, fmt.Sprintf("%s: sink must be a serving.knative.dev/v1 Service, not %s %s", d, ref.APIVersion, ref.Kind))
			continue
		}
		ns := ref.Namespace
		if ns == "" {
			ns = d.Namespace
		}
		if _, ok := b.Get(gvkKService, ns, ref.Name); !ok {
			problems = append(problems, fmt.Sprintf("%s: sink names Knative Service %s/%s, which is not in knative/", d, ns, ref.Name))
		}
	}
	return problems
}

// clusterRefOK: a rabbitmqClusterReference names the RabbitmqCluster in knative/.
func clusterRefOK(b *Bundle, d Doc, ref *rmqv1beta1.RabbitmqClusterReference) []string {
	if ref == nil || ref.Name == "" {
		return []string{fmt.Sprintf("%s: rabbitmqClusterReference.name is required", d)}
	}
	ns := ref.Namespace
	if ns == "" {
		ns = d.Namespace
	}
	if _, ok := b.Get(gvkCluster, ns, ref.Name); !ok {
		return []string{fmt.Sprintf("%s: rabbitmqClusterReference names RabbitmqCluster %s/%s, which is not in knative/", d, ns, ref.Name)}
	}
	return nil
}

// checkMessaging: the RabbitmqSources consume the application's queues (names from
// settings.py), the topology predeclares exactly the application's topology
// (src/video2audio/messaging.py), and the sources' delivery specs are well formed.
func checkMessaging(b *Bundle, settings Settings) []string {
	var problems []string
	exchange := settings["RABBITMQ_EXCHANGE"]
	dlx := settings["RABBITMQ_DEAD_LETTER_EXCHANGE"]
	workQueues := []string{settings["CONVERT_QUEUE"], settings["NOTIFY_QUEUE"]}
	if exchange == "" || dlx == "" || workQueues[0] == "" || workQueues[1] == "" {
		return []string{"settings.py: exchange/queue defaults not found"}
	}

	queues := map[string]rmqv1beta1.QueueSpec{}
	for _, d := range b.Find(gvkQueue) {
		var q rmqv1beta1.Queue
		if err := decodeStrict(d, &q); err != nil {
			continue // reported by checkTypedObjects
		}
		queues[q.Spec.Name] = q.Spec
		problems = append(problems, clusterRefOK(b, d, &q.Spec.RabbitmqClusterReference)...)
	}
	exchanges := map[string]rmqv1beta1.ExchangeSpec{}
	for _, d := range b.Find(gvkExchange) {
		var e rmqv1beta1.Exchange
		if err := decodeStrict(d, &e); err != nil {
			continue
		}
		exchanges[e.Spec.Name] = e.Spec
		problems = append(problems, clusterRefOK(b, d, &e.Spec.RabbitmqClusterReference)...)
	}
	bindings := map[string]bool{} // source|destination|routingKey
	for _, d := range b.Find(gvkBinding) {
		var bd rmqv1beta1.Binding
		if err := decodeStrict(d, &bd); err != nil {
			continue
		}
		if bd.Spec.DestinationType != "queue" {
			problems = append(problems, fmt.Sprintf("%s: destinationType must be queue", d))
		}
		bindings[bd.Spec.Source+"|"+bd.Spec.Destination+"|"+bd.Spec.RoutingKey] = true
		problems = append(problems, clusterRefOK(b, d, &bd.Spec.RabbitmqClusterReference)...)
	}

	for _, name := range []string{exchange, dlx} {
		e, ok := exchanges[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("topology: exchange %q (settings.py) is not declared", name))
		case e.Type != "direct" || !e.Durable || e.AutoDelete:
			problems = append(problems, fmt.Sprintf("topology: exchange %q must be direct and durable", name))
		}
	}
	for _, name := range workQueues {
		parked := name + ".parked"
		q, ok := queues[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("topology: queue %q (settings.py) is not declared", name))
		} else {
			if q.Type != "quorum" || !q.Durable || q.AutoDelete {
				problems = append(problems, fmt.Sprintf("topology: queue %q must be a durable quorum queue", name))
			}
			args := map[string]any{}
			if q.Arguments != nil {
				_ = json.Unmarshal(q.Arguments.Raw, &args)
			}
			if args["x-dead-letter-exchange"] != dlx || args["x-dead-letter-routing-key"] != name {
				problems = append(problems, fmt.Sprintf("topology: queue %q must dead-letter to %q with routing key %q, has %v", name, dlx, name, args))
			}
		}
		if p, ok := queues[parked]; !ok {
			problems = append(problems, fmt.Sprintf("topology: parked queue %q is not declared", parked))
		} else if p.Type != "quorum" || !p.Durable {
			problems = append(problems, fmt.Sprintf("topology: parked queue %q must be a durable quorum queue", parked))
		}
		if !bindings[exchange+"|"+name+"|"+name] {
			problems = append(problems, fmt.Sprintf("topology: no binding %s -> %s with routing key %s", exchange, name, name))
		}
		if !bindings[dlx+"|"+parked+"|"+name] {
			problems = append(problems, fmt.Sprintf("topology: no binding %s -> %s with routing key %s", dlx, parked, name))
		}
	}

	consumed := map[string]string{}
	for _, d := range b.Find(gvkRabbitmqSrc) {
		var s rmqsourcev1alpha1.RabbitmqSource
		if err := decodeStrict(d, &s); err != nil {
			continue
		}
		problems = append(problems, clusterRefOK(b, d, s.Spec.RabbitmqClusterReference)...)
		cfg := s.Spec.RabbitmqResourcesConfig
		if cfg == nil {
			continue // Validate reports it
		}
		if cfg.QueueName == "" {
			problems = append(problems, fmt.Sprintf("%s: spec.rabbitmqResourcesConfig.queueName is required", d))
		} else if !contains(workQueues, cfg.QueueName) {
			problems = append(problems, fmt.Sprintf("%s: queueName %q is not one of the application's queues %v (settings.py)", d, cfg.QueueName, workQueues))
		} else if other, dup := consumed[cfg.QueueName]; dup {
			problems = append(problems, fmt.Sprintf("%s: queue %q is already consumed by %s", d, cfg.QueueName, other))
		} else {
			consumed[cfg.QueueName] = d.Name
		}
		if !cfg.Predeclared {
			problems = append(problems, fmt.Sprintf("%s: predeclared must be true (the topology is declared with its dead-letter exchange)", d))
		}
		if cfg.Parallelism == nil {
			problems = append(problems, fmt.Sprintf("%s: set parallelism explicitly", d))
		}
		problems = append(problems, checkDelivery(d, s.Spec.Delivery)...)
	}
	for _, q := range workQueues {
		if _, ok := consumed[q]; !ok {
			problems = append(problems, fmt.Sprintf("no RabbitmqSource consumes queue %q", q))
		}
	}
	return problems
}

// checkDelivery: the RabbitmqSource's delivery spec, which its Validate does not look at.
func checkDelivery(d Doc, del *rmqsourcev1alpha1.DeliverySpec) []string {
	if del == nil {
		return []string{fmt.Sprintf("%s: spec.delivery (retry, backoffPolicy, backoffDelay) is required", d)}
	}
	var problems []string
	if del.Retry == nil || *del.Retry < 1 {
		problems = append(problems, fmt.Sprintf("%s: spec.delivery.retry must be at least 1", d))
	}
	if del.BackoffPolicy == nil || (*del.BackoffPolicy != "linear" && *del.BackoffPolicy != "exponential") {
		problems = append(problems, fmt.Sprintf("%s: spec.delivery.backoffPolicy must be linear or exponential", d))
	}
	// The rule local-eventing applies before it starts the adapter (go/internal/delivery).
	delay := ""
	if del.BackoffDelay != nil {
		delay = *del.BackoffDelay
	}
	if _, err := delivery.BackoffDelay(delay); err != nil {
		problems = append(problems, fmt.Sprintf("%s: spec.delivery.%v", d, err))
	}
	return problems
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// podSpecs returns the pod templates of the workloads in the bundle, by document.
func podSpecs(b *Bundle) map[string]*corev1.PodSpec {
	out := map[string]*corev1.PodSpec{}
	for _, d := range b.Docs {
		switch d.GVK() {
		case gvkKService:
			var s servingv1.Service
			if decodeStrict(d, &s) == nil {
				out[d.String()] = &s.Spec.Template.Spec.PodSpec
			}
		case gvkStatefulSet:
			var s appsv1.StatefulSet
			if decodeStrict(d, &s) == nil {
				out[d.String()] = &s.Spec.Template.Spec
			}
		case gvkDeployment:
			var s appsv1.Deployment
			if decodeStrict(d, &s) == nil {
				out[d.String()] = &s.Spec.Template.Spec
			}
		}
	}
	return out
}

// checkReferences: every Secret/ConfigMap (and key) a workload reads exists — in knative/ or
// among the Secrets deploy.sh generates — and every container has requests and limits.
func checkReferences(b *Bundle, secrets []Doc) []string {
	var problems []string
	configMaps := map[string]map[string]string{}
	for _, d := range b.Find(gvkConfigMap) {
		var cm corev1.ConfigMap
		if decodeStrict(d, &cm) == nil {
			configMaps[cm.Name] = cm.Data
		}
	}
	secretKeys := map[string]map[string]bool{}
	for _, d := range append(b.Find(gvkSecret), secrets...) {
		var s corev1.Secret
		if decodeStrict(d, &s) != nil {
			continue
		}
		keys := map[string]bool{}
		for k := range s.Data {
			keys[k] = true
		}
		for k := range s.StringData {
			keys[k] = true
		}
		secretKeys[s.Name] = keys
	}
	for where, spec := range podSpecs(b) {
		for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			for _, env := range c.Env {
				if env.ValueFrom == nil {
					continue
				}
				if r := env.ValueFrom.SecretKeyRef; r != nil {
					if keys, ok := secretKeys[r.Name]; !ok {
						problems = append(problems, fmt.Sprintf("%s: env %s reads Secret %q, which neither knative/ nor deploy.sh provides", where, env.Name, r.Name))
					} else if !keys[r.Key] {
						problems = append(problems, fmt.Sprintf("%s: env %s reads key %q of Secret %q, which has %v", where, env.Name, r.Key, r.Name, sortedKeys(keys)))
					}
				}
				if r := env.ValueFrom.ConfigMapKeyRef; r != nil {
					if data, ok := configMaps[r.Name]; !ok {
						problems = append(problems, fmt.Sprintf("%s: env %s reads ConfigMap %q, which is not in knative/", where, env.Name, r.Name))
					} else if _, ok := data[r.Key]; !ok {
						problems = append(problems, fmt.Sprintf("%s: env %s reads missing key %q of ConfigMap %q", where, env.Name, r.Key, r.Name))
					}
				}
			}
			for _, from := range c.EnvFrom {
				if r := from.ConfigMapRef; r != nil {
					if _, ok := configMaps[r.Name]; !ok {
						problems = append(problems, fmt.Sprintf("%s: envFrom ConfigMap %q is not in knative/", where, r.Name))
					}
				}
				if r := from.SecretRef; r != nil {
					if _, ok := secretKeys[r.Name]; !ok {
						problems = append(problems, fmt.Sprintf("%s: envFrom Secret %q is neither in knative/ nor generated by deploy.sh", where, r.Name))
					}
				}
			}
			for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if _, ok := c.Resources.Requests[res]; !ok {
					problems = append(problems, fmt.Sprintf("%s: container %q has no %s request", where, c.Name, res))
				}
				if _, ok := c.Resources.Limits[res]; !ok {
					problems = append(problems, fmt.Sprintf("%s: container %q has no %s limit", where, c.Name, res))
				}
			}
			if c.ImagePullPolicy != corev1.PullIfNotPresent {
				problems = append(problems, fmt.Sprintf("%s: container %q: imagePullPolicy must be IfNotPresent", where, c.Name))
			}
		}
	}
	return problems
}

// checkSettings: the ConfigMap and the application Secret hold only settings the application
// knows, secrets only in the Secret, and the values the cluster relies on agree.
func checkSettings(b *Bundle, settings Settings, secrets []Doc) []string {
	var problems []string
	var cm corev1.ConfigMap
	d, ok := b.Get(gvkConfigMap, Namespace, "video2audio-settings")
	if !ok || decodeStrict(d, &cm) != nil {
		return []string{"ConfigMap video2audio/video2audio-settings is missing"}
	}
	for _, k := range sortedKeys(cm.Data) {
		if _, known := settings[k]; !known {
			problems = append(problems, fmt.Sprintf("%s: %s is not a setting of src/video2audio/settings.py", d, k))
		}
		if contains(secretSettings, k) {
			problems = append(problems, fmt.Sprintf("%s: %s is a secret and must come from a Secret", d, k))
		}
	}
	for _, k := range []string{"RABBITMQ_EXCHANGE", "RABBITMQ_DEAD_LETTER_EXCHANGE", "CONVERT_QUEUE", "NOTIFY_QUEUE"} {
		if v, set := cm.Data[k]; set && v != settings[k] {
			problems = append(problems, fmt.Sprintf("%s: %s=%q differs from the application's default %q, which the topology and the sources use", d, k, v, settings[k]))
		}
	}
	if cm.Data["APP_ENV"] != "production" {
		problems = append(problems, fmt.Sprintf("%s: APP_ENV must be production on a cluster", d))
	}
	var app *corev1.Secret
	for _, sd := range secrets {
		var s corev1.Secret
		if decodeStrict(sd, &s) == nil && s.Name == "video2audio-secrets" {
			app = &s
		}
	}
	if app == nil {
		return append(problems, "deploy.sh does not generate the Secret video2audio-secrets")
	}
	for k := range app.Data {
		if _, known := settings[k]; !known {
			problems = append(problems, fmt.Sprintf("Secret video2audio-secrets: %s is not a setting of settings.py", k))
		}
	}
	for _, k := range secretSettings {
		if _, ok := app.Data[k]; !ok {
			problems = append(problems, fmt.Sprintf("Secret video2audio-secrets: %s is missing", k))
		}
	}
	for _, k := range []string{"JWT_SECRET", "LINK_SECRET", "WEBHOOK_SECRET"} {
		if len(app.Data[k]) < 32 {
			problems = append(problems, fmt.Sprintf("Secret video2audio-secrets: %s is shorter than 32 characters (refused with APP_ENV=production)", k))
		}
	}
	return problems
}

// checkFunctionServices: the per-function requirements of the deployment.
func checkFunctionServices(b *Bundle, versions map[string]string, settings Settings, cm map[string]string) []string {
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

// checkDataServices: images pinned in versions.env, RabbitMQ sized for kind and with the raised
// consumer timeout.
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
	m := regexp.MustCompile(`(?m)^\s*consumer_timeout\s*=\s*(\d+)\s*$`).FindStringSubmatch(cluster.Spec.Rabbitmq.AdditionalConfig)
	if m == nil {
		problems = append(problems, fmt.Sprintf("%s: rabbitmq.additionalConfig must raise consumer_timeout (the source adapter's prefetch is 100)", d))
	} else if ms, _ := strconv.Atoi(m[1]); time.Duration(ms)*time.Millisecond < time.Hour {
		problems = append(problems, fmt.Sprintf("%s: consumer_timeout %s ms is below an hour", d, m[1]))
	}
	return problems
}
