package validate

import (
	"slices"
	"strings"
	"testing"
)

// Each broken fixture replaces one manifest of knative/; the checks must name the fault.
func TestBrokenManifestsAreCaught(t *testing.T) {
	r := testRepo(t)
	cases := []struct {
		fixture, replaces string
		want              []string
	}{
		{"bad-cron.yaml", "knative/eventing/expire-ping.yaml",
			[]string{"PingSource video2audio/expire-ping: Knative validation", "schedule"}},
		{"annotation-on-service.yaml", "knative/services/convert.yaml",
			[]string{"Service video2audio/convert", "autoscaling.knative.dev/max-scale", "metadata.annotations"}},
		{"missing-sink.yaml", "knative/eventing/convert-source.yaml",
			[]string{"RabbitmqSource video2audio/convert-source: sink names Knative Service video2audio/converter, which is not in knative/"}},
		{"wrong-queue.yaml", "knative/eventing/notify-source.yaml",
			[]string{`queueName "video2audio.notifications" is not one of the application's queues`, "backoffDelay must be an ISO-8601 duration"}},
		{"bad-setting.yaml", "knative/config/settings.yaml",
			[]string{"the functions would refuse to start: SMTP_PORT"}},
		{"open-network-policy.yaml", "knative/security/network-policy.yaml",
			[]string{"Service video2audio/notify: cluster-local, but no NetworkPolicy", `peer namespace "" app "" on port 8080 is not on Knative's request path`}},
		{"consumer-timeout-too-short.yaml", "knative/rabbitmq/cluster.yaml",
			[]string{"consumer_timeout 10800000 ms is too short for RabbitmqSource video2audio/convert-source", "must be at least 36000000 ms"}},
		{"serial-convert-source.yaml", "knative/eventing/convert-source.yaml",
			[]string{"posts 1 at a time", "must be at least 72000000 ms"}},
		{"disk-alarm.yaml", "knative/rabbitmq/cluster.yaml",
			[]string{"persistence.storage 2Gi with the cluster operator's default disk_free_limit.absolute = 2GB"}},
		{"misspelt-cluster-field.yaml", "knative/rabbitmq/cluster.yaml",
			[]string{"RabbitmqCluster video2audio/rabbitmq: CRD schema: spec.persistance: not in the CRD schema", `json: unknown field "persistance"`}},
		{"queue-wrong-type.yaml", "knative/rabbitmq/topology.yaml",
			[]string{"Queue video2audio/video2audio-convert: CRD schema: spec.durable: must be true or false", "cannot unmarshal string into Go struct field QueueSpec.spec.durable of type bool"}},
		{"unknown-field.yaml", "knative/services/upload.yaml",
			[]string{"Service video2audio/upload: CRD schema: spec.template.spec.containerConcurency: not in the CRD schema", `unknown field "containerConcurency"`}},
	}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(tc.fixture, ".yaml"), func(t *testing.T) {
			b, problems, err := r.LoadBundle(map[string]string{
				tc.replaces: r.Path("go/validate/testdata/broken/" + tc.fixture),
			})
			if err != nil {
				t.Fatal(err)
			}
			more, err := r.CheckManifests(b)
			if err != nil {
				t.Fatal(err)
			}
			problems = append(problems, more...)
			if len(problems) == 0 {
				t.Fatalf("%s: no problem reported", tc.fixture)
			}
			all := strings.Join(problems, "\n")
			for _, want := range tc.want {
				// Every expected fragment must appear in one reported problem.
				if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, want) }) {
					t.Errorf("%s: no problem mentions %q; got:\n%s", tc.fixture, want, all)
				}
			}
			t.Logf("%s caught:\n%s", tc.fixture, all)
		})
	}
}
