package validate

import (
	"strings"
	"testing"
)

func TestMonitoringManifestsScrapeTheFunctionsAndLoadTheRules(t *testing.T) {
	problems, err := testRepo(t).CheckMonitoring()
	check(t, problems, err)
}

func TestEveryAlertHasATestWhereItFiresAndOneWhereItDoesNot(t *testing.T) {
	problems, err := testRepo(t).CheckRuleTests()
	check(t, problems, err)
}

// A PodMonitor that would scrape queue-proxy instead of the functions, without the token, misses
// a function and loses the labels the rules use: each fault is named.
func TestABrokenFunctionsPodMonitorIsCaught(t *testing.T) {
	r := testRepo(t)
	text, err := r.ReadFile("go/validate/testdata/broken/pod-monitor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs, problems := parseManifest("pod-monitor.yaml", []byte(text))
	if len(problems) > 0 || len(docs) != 1 {
		t.Fatalf("fixture does not parse: %v", problems)
	}
	var pm podMonitor
	if err := decodeStrict(docs[0], &pm); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(checkFunctionsMonitor(docs[0], pm), "\n")
	for _, want := range []string{
		"must select serving.knative.dev/service In",
		`not "http-usermetric" "/metrics"`,
		"needs authorization Bearer from Secret video2audio-secrets key METRICS_TOKEN",
		"relabel to job=video2audio",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no problem mentions %q; got:\n%s", want, got)
		}
	}
}
