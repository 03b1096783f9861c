package validate

import (
	"context"
	"fmt"
	"strings"

	clusterv1beta1 "github.com/rabbitmq/cluster-operator/v2/api/v1beta1"
	topologyv1beta1 "github.com/rabbitmq/messaging-topology-operator/api/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rmqsourcev1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
)

// The apiVersion/kinds the manifests may use, each with the install step of scripts/deploy.sh
// that provides it ("" = built into Kubernetes).
var installedKinds = map[string]string{
	gvkNamespace:   "",
	gvkConfigMap:   "",
	gvkSecret:      "",
	gvkCoreService: "",
	gvkStatefulSet: "",
	gvkDeployment:  "",
	gvkNetPolicy:   "",
	gvkKService:    "serving/releases/download/$KNATIVE_SERVING_VERSION/serving-core.yaml",
	gvkPing:        "eventing/releases/download/$KNATIVE_EVENTING_VERSION/eventing-core.yaml",
	gvkRabbitmqSrc: "eventing-rabbitmq/releases/download/$EVENTING_RABBITMQ_VERSION/rabbitmq-source.yaml",
	gvkCluster:     "cluster-operator/releases/download/$RABBITMQ_CLUSTER_OPERATOR_VERSION/cluster-operator.yml",
	gvkExchange:    "messaging-topology-operator/releases/download/$RABBITMQ_TOPOLOGY_OPERATOR_VERSION/messaging-topology-operator-with-certmanager.yaml",
	gvkQueue:       "messaging-topology-operator/releases/download/$RABBITMQ_TOPOLOGY_OPERATOR_VERSION/messaging-topology-operator-with-certmanager.yaml",
	gvkBinding:     "messaging-topology-operator/releases/download/$RABBITMQ_TOPOLOGY_OPERATOR_VERSION/messaging-topology-operator-with-certmanager.yaml",
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
// custom object against its CRD's schema (schemas, by apiVersion/kind).
func checkKnativeAPI(b *Bundle, schemas map[string]*Schema) []string {
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
		if s := schemas[d.GVK()]; s != nil {
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

// checkTypedObjects decodes the Kubernetes and RabbitMQ objects strictly into their Go types (the
// RabbitMQ ones: the cluster and topology operators' own API packages), so a misspelt or
// misplaced field fails here instead of being dropped by the API server; the RabbitMQ objects
// are also checked against their operators' CRD schemas (types, enums, required fields).
func checkTypedObjects(b *Bundle, schemas map[string]*Schema) []string {
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
		case gvkNamespace:
			obj = &corev1.Namespace{}
		case gvkStatefulSet:
			obj = &appsv1.StatefulSet{}
		case gvkDeployment:
			obj = &appsv1.Deployment{}
		case gvkNetPolicy:
			obj = &networkingv1.NetworkPolicy{}
		case gvkCluster:
			obj = &clusterv1beta1.RabbitmqCluster{}
		case gvkExchange:
			obj = &topologyv1beta1.Exchange{}
		case gvkQueue:
			obj = &topologyv1beta1.Queue{}
		case gvkBinding:
			obj = &topologyv1beta1.Binding{}
		default:
			continue
		}
		if s := schemas[d.GVK()]; s != nil {
			for _, p := range validateSchema(s, d.Object, "") {
				problems = append(problems, fmt.Sprintf("%s: CRD schema: %s", d, strings.TrimPrefix(p, ".")))
			}
		}
		if err := decodeStrict(d, obj); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", d, err))
		}
	}
	return problems
}
