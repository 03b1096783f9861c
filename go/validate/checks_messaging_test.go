package validate

import (
	"strings"
	"testing"

	rmqsourcev1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
	eventingduckv1 "knative.dev/eventing/pkg/apis/duck/v1"
)

// The manifests' backoffDelay obeys the rule local-eventing starts the adapter with.
func TestCheckDeliveryAppliesTheAdaptersBackoffRule(t *testing.T) {
	retry := int32(3)
	policy := eventingduckv1.BackoffPolicyExponential
	d := Doc{File: "knative/eventing/x.yaml", Kind: "RabbitmqSource", Namespace: Namespace, Name: "x"}
	for delay, want := range map[string]string{
		"PT1S":    "",
		"PT0.05S": "backoffDelay \"PT0.05S\" must be at least",
		"PT0S":    "backoffDelay \"PT0S\" must be at least",
		"1s":      "backoffDelay must be an ISO-8601 duration",
	} {
		problems := checkDelivery(d, &rmqsourcev1alpha1.DeliverySpec{Retry: &retry, BackoffPolicy: &policy, BackoffDelay: &delay})
		switch {
		case want == "" && len(problems) > 0:
			t.Errorf("%s: %v", delay, problems)
		case want != "" && (len(problems) != 1 || !strings.Contains(problems[0], want)):
			t.Errorf("%s: %v, want one problem saying %q", delay, problems, want)
		}
	}
	if p := checkDelivery(d, &rmqsourcev1alpha1.DeliverySpec{Retry: &retry, BackoffPolicy: &policy}); len(p) != 1 {
		t.Errorf("no backoffDelay: %v", p)
	}
}
