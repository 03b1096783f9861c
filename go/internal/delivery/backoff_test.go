package delivery

import (
	"strings"
	"testing"
	"time"

	rmqv1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
)

func TestBackoffDelayAcceptsWhatTheAdapterCanWaitFor(t *testing.T) {
	for delay, want := range map[string]time.Duration{
		"PT1S":              time.Second,
		"PT0.1S":            100 * time.Millisecond,
		"PT0.25S":           200 * time.Millisecond, // the adapter's 0.1 s resolution
		"PT2M":              2 * time.Minute,
		"P1DT2H":            26 * time.Hour,
		"PT1H30M":           90 * time.Minute,
		DefaultBackoffDelay: 200 * time.Millisecond,
	} {
		got, err := BackoffDelay(delay)
		if err != nil {
			t.Errorf("%s: %v", delay, err)
		} else if got != want {
			t.Errorf("%s: %v, want %v", delay, got, want)
		}
	}
}

func TestBackoffDelayRefusesWhatTheAdapterCannotUse(t *testing.T) {
	for delay, why := range map[string]string{
		"":        "ISO-8601",
		"1s":      "ISO-8601",
		"P":       "ISO-8601",
		"PT":      "ISO-8601",
		"P1DT":    "ISO-8601",
		"pt1s":    "ISO-8601",
		"-PT1S":   "ISO-8601",
		"P1W":     "ISO-8601", // approximate units
		"P1Y":     "ISO-8601",
		"PT1.5M":  "ISO-8601", // only seconds may be fractional
		"PT0S":    "at least",
		"PT0.05S": "at least",
		"PT0.09S": "at least",
	} {
		if _, err := BackoffDelay(delay); err == nil {
			t.Errorf("%q accepted", delay)
		} else if !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want it to say %q", delay, err, why)
		}
	}
}

func TestCheckAppliesTheRuleOnlyWhenTheAdapterRetries(t *testing.T) {
	ptr := func(s string) *string { return &s }
	retries := func(n int32) *int32 { return &n }
	for _, tc := range []struct {
		name string
		spec *rmqv1alpha1.DeliverySpec
		ok   bool
	}{
		{"no delivery spec", nil, true},
		{"no retries", &rmqv1alpha1.DeliverySpec{BackoffDelay: ptr("PT0S")}, true},
		{"zero retries", &rmqv1alpha1.DeliverySpec{Retry: retries(0), BackoffDelay: ptr("PT0S")}, true},
		{"retries, adapter default", &rmqv1alpha1.DeliverySpec{Retry: retries(3)}, true},
		{"retries, PT1S", &rmqv1alpha1.DeliverySpec{Retry: retries(3), BackoffDelay: ptr("PT1S")}, true},
		{"retries, too short", &rmqv1alpha1.DeliverySpec{Retry: retries(3), BackoffDelay: ptr("PT0.05S")}, false},
		{"retries, not ISO", &rmqv1alpha1.DeliverySpec{Retry: retries(3), BackoffDelay: ptr("1s")}, false},
	} {
		if err := Check(tc.spec); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}
