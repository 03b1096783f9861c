package validate

import (
	corev1 "k8s.io/api/core/v1"
)

const (
	gvkNamespace   = "v1/Namespace"
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
	gvkNetPolicy   = "networking.k8s.io/v1/NetworkPolicy"
	gvkCoreService = "v1/Service"
)

// settingsConfigMap is the ConfigMap holding the application's non-secret settings.
const settingsConfigMap = "video2audio-settings"

// CheckManifests runs every manifest check on a bundle — knative/ as listed by its
// kustomization, or with broken fixtures swapped in — against the rest of the repository
// (scripts/deploy.sh and versions.env, settings.py, the CRDs) and returns the problems found.
// The error is for inputs that cannot be read at all.
func (r *Repo) CheckManifests(b *Bundle) ([]string, error) {
	versions, err := r.Versions()
	if err != nil {
		return nil, err
	}
	settings, err := r.Settings()
	if err != nil {
		return nil, err
	}
	secrets, err := r.GeneratedSecrets()
	if err != nil {
		return nil, err
	}
	deployScript, err := r.ReadFile("scripts/deploy.sh")
	if err != nil {
		return nil, err
	}
	schemas, err := r.CRDSchemas()
	if err != nil {
		return nil, err
	}
	var cm corev1.ConfigMap
	if d, ok := b.Get(gvkConfigMap, Namespace, settingsConfigMap); ok {
		_ = decodeStrict(d, &cm) // a broken ConfigMap is checkTypedObjects' to report
	}
	var problems []string
	problems = append(problems, checkKinds(b, deployScript)...)
	problems = append(problems, checkKnativeAPI(b, schemas)...)
	problems = append(problems, checkTypedObjects(b, schemas)...)
	problems = append(problems, checkSinks(b)...)
	problems = append(problems, checkMessaging(b, settings)...)
	problems = append(problems, checkReferences(b, secrets)...)
	problems = append(problems, checkSettings(b, settings, secrets, r.CheckSettings)...)
	problems = append(problems, checkFunctionServices(b, versions, cm.Data)...)
	problems = append(problems, checkDataServices(b, versions)...)
	problems = append(problems, checkRabbitmqCluster(b)...)
	problems = append(problems, checkNetworkPolicies(b)...)
	return problems, nil
}
