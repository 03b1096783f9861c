// Package delivery is the one rule for a RabbitmqSource's spec.delivery.backoffDelay, shared by
// the offline validation of the manifests (go/validate) and the local event source that runs the
// receive adapter from them (go/cmd/local-eventing).
//
// The adapter (knative.dev/eventing-rabbitmq/pkg/adapter) reads the delay with
// github.com/rickb777/date/period at a resolution of 0.1 s and ignores parse errors. A delay that
// does not parse, or that comes out as zero or less, becomes a zero retry interval, and with
// retries configured its retry ticker panics on the first failed send: in the cluster the pod
// crash-loops, locally the process dies. The RabbitmqSource webhook does not look at the field.
package delivery

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rickb777/date/period"
	rmqv1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
)

// DefaultBackoffDelay is the delay the adapter uses when the manifest sets none.
const DefaultBackoffDelay = "PT0.2S"

// MinBackoffDelay is the shortest delay the adapter can represent (its resolution).
const MinBackoffDelay = 100 * time.Millisecond

// exactDuration is the ISO 8601 form accepted: days, hours, minutes and (possibly fractional)
// seconds, no sign. Years, months and weeks are refused: they are approximations, which make
// no sense for a retry delay. (isExact also refuses a P or T with nothing after it.)
var exactDuration = regexp.MustCompile(`^P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$`)

func isExact(delay string) bool {
	return exactDuration.MatchString(delay) && !strings.HasSuffix(delay, "P") && !strings.HasSuffix(delay, "T")
}

// BackoffDelay checks a backoffDelay and returns the delay the adapter will wait before its first
// retry. The error says why the adapter could not use it.
func BackoffDelay(delay string) (time.Duration, error) {
	if !isExact(delay) {
		return 0, fmt.Errorf("backoffDelay must be an ISO-8601 duration such as PT1S, not %q", delay)
	}
	p, err := period.Parse(delay)
	if err != nil {
		return 0, fmt.Errorf("backoffDelay must be an ISO-8601 duration such as PT1S, not %q: %v", delay, err)
	}
	d := p.DurationApprox()
	if d < MinBackoffDelay {
		return 0, fmt.Errorf("backoffDelay %q must be at least %v: the adapter reads it as %v at its 0.1 s resolution, and a zero delay panics on the first retry",
			delay, MinBackoffDelay, d)
	}
	return d, nil
}

// Check applies the rule to the delay the adapter would use for a source's delivery spec: the
// spec's backoffDelay, or the adapter's default when unset. Without retries the delay is never
// used and anything goes.
func Check(spec *rmqv1alpha1.DeliverySpec) error {
	if spec == nil || spec.Retry == nil || *spec.Retry <= 0 {
		return nil
	}
	delay := DefaultBackoffDelay
	if spec.BackoffDelay != nil {
		delay = *spec.BackoffDelay
	}
	_, err := BackoffDelay(delay)
	return err
}
