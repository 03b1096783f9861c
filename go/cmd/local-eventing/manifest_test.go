package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/video2audio/video2audio/go/internal/delivery"
)

const manifests = "../../../knative/eventing"

const localSinks = "convert=http://127.0.0.1:8083,notify=http://127.0.0.1:8084,expire=http://127.0.0.1:8085"

func envFor(t *testing.T, file string) map[string]string {
	t.Helper()
	src, err := loadRabbitmqSource(filepath.Join(manifests, file))
	if err != nil {
		t.Fatal(err)
	}
	src.SetDefaults(context.Background())
	if fe := src.Validate(context.Background()); fe != nil {
		t.Fatalf("manifest invalid: %v", fe)
	}
	if err := delivery.Check(src.Spec.Delivery); err != nil {
		t.Fatal(err)
	}
	sm, err := parseSinkMap(localSinks)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := sm.resolve(src.Spec.Sink)
	if err != nil {
		t.Fatal(err)
	}
	env, err := adapterEnv(src, sink, "amqp://guest:guest@127.0.0.1:55672/%2F")
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func assertEnv(t *testing.T, env map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}

func TestConvertSourceManifestGivesTheAdapterItsSettings(t *testing.T) {
	assertEnv(t, envFor(t, "convert-source.yaml"), map[string]string{
		"RABBIT_URL":                   "amqp://guest:guest@127.0.0.1:55672/%2F",
		"RABBITMQ_QUEUE_NAME":          "video2audio.convert",
		"RABBITMQ_PREDECLARED":         "true",
		"RABBITMQ_CHANNEL_PARALLELISM": "2",
		"HTTP_SENDER_RETRY":            "7",
		"HTTP_SENDER_BACKOFF_POLICY":   "exponential",
		"HTTP_SENDER_BACKOFF_DELAY":    "PT1S",
		"K_SINK":                       "http://127.0.0.1:8083",
		"NAME":                         "convert-source",
		"NAMESPACE":                    "video2audio",
	})
}

func TestNotifySourceManifestGivesTheAdapterItsSettings(t *testing.T) {
	assertEnv(t, envFor(t, "notify-source.yaml"), map[string]string{
		"RABBITMQ_QUEUE_NAME":          "video2audio.notify",
		"RABBITMQ_PREDECLARED":         "true",
		"RABBITMQ_CHANNEL_PARALLELISM": "4",
		"K_SINK":                       "http://127.0.0.1:8084",
		"NAME":                         "notify-source",
	})
}

func TestExpirePingManifestValidatesAsTheWebhookWould(t *testing.T) {
	src, err := loadPingSource(filepath.Join(manifests, "expire-ping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src.SetDefaults(context.Background())
	if fe := src.Validate(context.Background()); fe != nil {
		t.Fatalf("manifest invalid: %v", fe)
	}
	if got := fullSchedule(src); got != "CRON_TZ=Etc/UTC * * * * *" {
		t.Errorf("schedule %q", got)
	}
	if _, err := cronParser.Parse(fullSchedule(src)); err != nil {
		t.Error(err)
	}
	if src.Spec.Data != `{}` || src.Spec.ContentType != "application/json" {
		t.Errorf("data %q content type %q", src.Spec.Data, src.Spec.ContentType)
	}
}

func TestSinkMapWithoutTheServiceIsAnError(t *testing.T) {
	src, err := loadRabbitmqSource(filepath.Join(manifests, "convert-source.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sm, err := parseSinkMap("notify=http://127.0.0.1:8084")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sm.resolve(src.Spec.Sink); err == nil || !strings.Contains(err.Error(), `"convert"`) {
		t.Errorf("err = %v", err)
	}
}

func TestSinkMapRejectsEntriesThatAreNotAbsoluteURLs(t *testing.T) {
	for _, bad := range []string{"convert", "convert=", "convert=127.0.0.1:8083", "=http://x"} {
		if _, err := parseSinkMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestBackoffDelayBelowATenthOfASecondIsRejected(t *testing.T) {
	src, err := loadRabbitmqSource(filepath.Join(manifests, "convert-source.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tooShort := "PT0.05S"
	src.Spec.Delivery.BackoffDelay = &tooShort
	if err := delivery.Check(src.Spec.Delivery); err == nil {
		t.Error("PT0.05S accepted")
	}
}
