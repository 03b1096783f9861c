package validate

import (
	"fmt"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
)

// A peer a NetworkPolicy may let reach a cluster-local function: the pods on Knative's request
// path, each on the queue-proxy port it needs (knative/security/network-policy.yaml says why).
type allowedPeer struct {
	namespace, app string
	port           int32
}

var allowedPeers = []allowedPeer{
	{"kourier-system", "3scale-kourier-gateway", 8012},
	{"knative-serving", "activator", 8012},
	{"knative-serving", "autoscaler", 9090},
}

// checkNetworkPolicies: every cluster-local Knative Service's pods are selected by an ingress
// NetworkPolicy, and the policies let in only the peers on Knative's request path, on their
// ports — never everyone, never the user container's port.
func checkNetworkPolicies(b *Bundle) []string {
	var problems []string
	var policies []networkingv1.NetworkPolicy
	for _, d := range b.Find(gvkNetPolicy) {
		var p networkingv1.NetworkPolicy
		if decodeStrict(d, &p) != nil {
			continue // checkTypedObjects reports it
		}
		policies = append(policies, p)
		problems = append(problems, checkPolicyPeers(d, &p)...)
	}
	for _, d := range b.Find(gvkKService) {
		var s servingv1.Service
		if decodeStrict(d, &s) != nil || s.Labels["networking.knative.dev/visibility"] != "cluster-local" {
			continue
		}
		podLabels := labels.Set{"serving.knative.dev/service": s.Name}
		if !slices.ContainsFunc(policies, func(p networkingv1.NetworkPolicy) bool {
			return selectsIngress(&p, s.Namespace, podLabels)
		}) {
			problems = append(problems, fmt.Sprintf("%s: cluster-local, but no NetworkPolicy limits who reaches its pods", d))
		}
	}
	return problems
}

func selectsIngress(p *networkingv1.NetworkPolicy, namespace string, podLabels labels.Set) bool {
	if p.Namespace != namespace || !slices.Contains(p.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		return false
	}
	selector, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
	return err == nil && !selector.Empty() && selector.Matches(podLabels)
}

func checkPolicyPeers(d Doc, p *networkingv1.NetworkPolicy) []string {
	var problems []string
	for i, rule := range p.Spec.Ingress {
		where := fmt.Sprintf("%s: ingress[%d]", d, i)
		if len(rule.From) == 0 {
			problems = append(problems, where+": allows every peer")
		}
		if len(rule.Ports) == 0 {
			problems = append(problems, where+": allows every port")
		}
		for _, peer := range rule.From {
			for _, port := range rule.Ports {
				if !peerAllowed(peer, port) {
					problems = append(problems, fmt.Sprintf("%s: peer %s on port %s is not on Knative's request path", where, describePeer(peer), port.Port))
				}
			}
		}
	}
	return problems
}

func peerAllowed(peer networkingv1.NetworkPolicyPeer, port networkingv1.NetworkPolicyPort) bool {
	if peer.IPBlock != nil || peer.NamespaceSelector == nil || peer.PodSelector == nil || port.Port == nil {
		return false
	}
	ns := peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
	app := peer.PodSelector.MatchLabels["app"]
	return len(peer.NamespaceSelector.MatchExpressions) == 0 && len(peer.PodSelector.MatchExpressions) == 0 &&
		slices.Contains(allowedPeers, allowedPeer{ns, app, port.Port.IntVal})
}

func describePeer(peer networkingv1.NetworkPolicyPeer) string {
	if peer.IPBlock != nil {
		return "ipBlock " + peer.IPBlock.CIDR
	}
	var ns, app string
	if peer.NamespaceSelector != nil {
		ns = peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]
	}
	if peer.PodSelector != nil {
		app = peer.PodSelector.MatchLabels["app"]
	}
	return fmt.Sprintf("namespace %q app %q", ns, app)
}
