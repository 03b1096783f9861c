package validate

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	rmqsourcev1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
	"knative.dev/eventing-rabbitmq/pkg/rabbit"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"sigs.k8s.io/yaml"
)

// consumerTimeoutMarginPercent: consumer_timeout must exceed the longest wait it has to cover by
// this much (room for a few retried deliveries ahead of a message).
const consumerTimeoutMarginPercent = 20

// operatorDiskFreeLimit is what the RabbitMQ cluster operator writes into rabbitmq.conf
// (disk_free_limit.absolute = 2GB) unless additionalConfig says otherwise.
const operatorDiskFreeLimit = 2_000_000_000

// defaultRevisionTimeout is Knative Serving's revision-timeout-seconds default.
const defaultRevisionTimeout = 300

// qosRecorder is a channel that records the prefetch count the adapter asks for.
type qosRecorder struct {
	rabbit.RabbitMQChannelMock
	prefetch int
}

func (c *qosRecorder) Qos(prefetch, _ int, _ bool) error {
	c.prefetch = prefetch
	return nil
}

// AdapterPrefetch is the prefetch count the RabbitmqSource receive adapter of the pinned
// eventing-rabbitmq sets on its channel (its own code, run against a recording channel): 100 in
// v0.48, whatever the source's parallelism.
func AdapterPrefetch() int {
	var ch qosRecorder
	_ = rabbit.ChannelQoS(nil, &ch)
	return ch.prefetch
}

// rabbitmqConf reads `key = value` lines of RabbitMQ's new-style config.
func rabbitmqConf(text, key string) (string, bool) {
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(key) + `\s*=\s*(\S+)\s*$`).FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// rabbitmqBytes parses an information unit as RabbitMQ's config does: k/kiB, M/MiB, G/GiB are
// powers of 1024; kB, MB, GB powers of 1000; no unit is bytes.
func rabbitmqBytes(s string) (int64, error) {
	m := regexp.MustCompile(`^(\d+)([a-zA-Z]*)$`).FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not an information unit", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]int64{"": 1, "k": 1 << 10, "kiB": 1 << 10, "M": 1 << 20, "MiB": 1 << 20,
		"G": 1 << 30, "GiB": 1 << 30, "kB": 1e3, "MB": 1e6, "GB": 1e9}[m[2]]
	if mult == 0 {
		return 0, fmt.Errorf("%q: unknown unit %q", s, m[2])
	}
	return n * mult, nil
}

// ConsumerTimeoutNeeded is the longest a message delivered to a RabbitmqSource's adapter can
// stay unacknowledged: the adapter holds up to prefetch messages but posts parallelism at a time,
// each post taking up to the sink Service's timeoutSeconds, so the last of a full window waits
// ceil(prefetch/parallelism) posts. Seconds, without margin.
func ConsumerTimeoutNeeded(prefetch, parallelism int, sinkTimeoutSeconds int64) int64 {
	return int64(math.Ceil(float64(prefetch)/float64(parallelism))) * sinkTimeoutSeconds
}

// checkRabbitmqCluster: consumer_timeout covers the adapters' prefetch windows, and the disk
// free limit leaves room on the volume.
func checkRabbitmqCluster(b *Bundle) []string {
	clusters := b.Find(gvkCluster)
	if len(clusters) != 1 {
		return nil // checkDataServices reports it
	}
	d := clusters[0]
	var cluster struct {
		Spec struct {
			Resources struct {
				Limits map[string]resource.Quantity `json:"limits"`
			} `json:"resources"`
			Persistence struct {
				Storage *resource.Quantity `json:"storage"`
			} `json:"persistence"`
			Rabbitmq struct {
				AdditionalConfig string `json:"additionalConfig"`
			} `json:"rabbitmq"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(d.JSON, &cluster); err != nil {
		return []string{fmt.Sprintf("%s: %v", d, err)}
	}
	conf := cluster.Spec.Rabbitmq.AdditionalConfig
	var problems []string

	// consumer_timeout against every source's window.
	prefetch := AdapterPrefetch()
	timeoutMs := int64(-1)
	if v, ok := rabbitmqConf(conf, "consumer_timeout"); !ok {
		problems = append(problems, fmt.Sprintf("%s: rabbitmq.additionalConfig must set consumer_timeout (the source adapter's prefetch is %d)", d, prefetch))
	} else if n, err := strconv.ParseInt(v, 10, 64); err != nil {
		problems = append(problems, fmt.Sprintf("%s: consumer_timeout %q is not a number of milliseconds", d, v))
	} else {
		timeoutMs = n
	}
	for _, sd := range b.Find(gvkRabbitmqSrc) {
		var src rmqsourcev1alpha1.RabbitmqSource
		if decodeStrict(sd, &src) != nil || src.Spec.RabbitmqResourcesConfig == nil {
			continue // reported by the API checks
		}
		parallelism := 1 // the CRD's default
		if p := src.Spec.RabbitmqResourcesConfig.Parallelism; p != nil && *p > 0 {
			parallelism = *p
		}
		sinkTimeout := int64(defaultRevisionTimeout)
		if ref := src.Spec.Sink.Ref; ref != nil {
			if kd, ok := b.Get(gvkKService, ref.Namespace, ref.Name); ok {
				var s servingv1.Service
				if decodeStrict(kd, &s) == nil && s.Spec.Template.Spec.TimeoutSeconds != nil {
					sinkTimeout = *s.Spec.Template.Spec.TimeoutSeconds
				}
			}
		}
		need := ConsumerTimeoutNeeded(prefetch, parallelism, sinkTimeout)
		needMs := need * 1000 * (100 + consumerTimeoutMarginPercent) / 100
		if timeoutMs >= 0 && timeoutMs < needMs {
			problems = append(problems, fmt.Sprintf(
				"%s: consumer_timeout %d ms is too short for RabbitmqSource %s/%s: its adapter holds %d messages and posts %d at a time, each taking up to the sink's timeoutSeconds %d, so a message can wait %d s unacknowledged; with a %d%% margin consumer_timeout must be at least %d ms",
				d, timeoutMs, src.Namespace, src.Name, prefetch, parallelism, sinkTimeout, need, consumerTimeoutMarginPercent, needMs))
		}
	}

	// The disk alarm: the free-space limit must leave most of the volume to messages.
	if cluster.Spec.Persistence.Storage == nil {
		return append(problems, fmt.Sprintf("%s: persistence.storage must be set (sized with disk_free_limit)", d))
	}
	storage := cluster.Spec.Persistence.Storage.Value()
	limit, what := int64(operatorDiskFreeLimit), "the cluster operator's default disk_free_limit.absolute = 2GB"
	if v, ok := rabbitmqConf(conf, "disk_free_limit.absolute"); ok {
		n, err := rabbitmqBytes(v)
		if err != nil {
			return append(problems, fmt.Sprintf("%s: disk_free_limit.absolute: %v", d, err))
		}
		limit, what = n, "disk_free_limit.absolute = "+v
	} else if v, ok := rabbitmqConf(conf, "disk_free_limit.relative"); ok {
		// Relative to the memory RabbitMQ sees: the container's limit.
		f, err := strconv.ParseFloat(v, 64)
		mem, hasMem := cluster.Spec.Resources.Limits["memory"]
		if err != nil || !hasMem {
			return append(problems, fmt.Sprintf("%s: disk_free_limit.relative %q needs a number and a memory limit", d, v))
		}
		limit, what = int64(f*float64(mem.Value())), "disk_free_limit.relative = "+v+" of the memory limit"
	}
	if limit*2 > storage {
		problems = append(problems, fmt.Sprintf(
			"%s: persistence.storage %s with %s (%d bytes): the broker raises its disk alarm and blocks publishers once free space falls below the limit, so the limit must be at most half the volume",
			d, cluster.Spec.Persistence.Storage.String(), what, limit))
	}
	if limit < 50_000_000 {
		problems = append(problems, fmt.Sprintf("%s: %s is below RabbitMQ's own 50MB floor", d, what))
	}
	return problems
}

// localConsumerTimeoutSource is how scripts/services.sh must take the local broker's
// consumer_timeout: from knative/rabbitmq/cluster.yaml, the one place the number lives.
func localConsumerTimeoutProblems(servicesScript string) []string {
	var problems []string
	if regexp.MustCompile(`(?m)^\s*consumer_timeout\s*=\s*\d`).MatchString(servicesScript) {
		problems = append(problems, "scripts/services.sh: consumer_timeout is a literal; read it from knative/rabbitmq/cluster.yaml")
	}
	if !strings.Contains(servicesScript, "knative/rabbitmq/cluster.yaml") {
		problems = append(problems, "scripts/services.sh: the local broker's consumer_timeout must come from knative/rabbitmq/cluster.yaml (the local event sources run the same adapter)")
	}
	return problems
}
