package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	nethttp "net/http"
	"os"
	"sync"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/robfig/cron/v3"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"knative.dev/eventing/pkg/adapter/mtping"
	"knative.dev/eventing/pkg/adapter/v2"
	sourcesv1 "knative.dev/eventing/pkg/apis/sources/v1"
	"knative.dev/pkg/apis"
)

// cronParser is the parser the PingSource webhook and mtping use.
var cronParser = cron.NewParser(
	cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor,
)

func runPing(args []string) int {
	fs := flag.NewFlagSet("ping", flag.ContinueOnError)
	manifest := fs.String("manifest", os.Getenv("LOCAL_EVENTING_MANIFEST"), "PingSource manifest (YAML)")
	sinks := fs.String("sink-map", os.Getenv("LOCAL_EVENTING_SINK_MAP"), "Service name to local URL: name=url,name=url")
	once := fs.Bool("once", false, "send one ping now; exit 0 only if the sink answered 2xx")
	readyFile := fs.String("ready-file", "", "file written once the schedule runs, removed on exit")
	timeout := fs.Duration("once-timeout", 60*time.Second, "with --once: give up after this long")
	data := fs.String("data", "", "replace the manifest's spec.data (e.g. {\"dry_run\": true})")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := newLogger()
	defer func() { _ = logger.Sync() }()
	if *manifest == "" {
		logger.Error("--manifest is required")
		return 2
	}
	src, err := loadPingSource(*manifest)
	if err != nil {
		logger.Error("cannot read manifest", zap.Error(err))
		return 2
	}
	if *data != "" {
		src.Spec.Data = *data
	}
	// The webhook's defaulting and validation: among others the schedule and
	// timezone are parsed exactly as the cluster would.
	src.SetDefaults(context.Background())
	if fe := src.Validate(context.Background()); fe != nil {
		logger.Error("manifest is not a valid PingSource", zap.Error(fe))
		return 2
	}
	sm, err := parseSinkMap(*sinks)
	if err != nil {
		logger.Error("bad --sink-map", zap.Error(err))
		return 2
	}
	sink, err := sm.resolve(&src.Spec.Sink)
	if err != nil {
		logger.Error("cannot resolve sink", zap.Error(err))
		return 2
	}
	// What the PingSource reconciler does in the cluster: the resolved sink
	// goes into the status, where the runner reads it.
	src.Status.SinkURI = (*apis.URL)(sink)

	// The runner only uses the Kubernetes client to build a recorder for
	// "sink failed" Events, which are off unless enabled by observability
	// config; it is never contacted here.
	kube, err := kubernetes.NewForConfig(&rest.Config{Host: "http://kubernetes.invalid"})
	if err != nil {
		logger.Error("cannot create placeholder Kubernetes client", zap.Error(err))
		return 1
	}
	env := &adapter.EnvConfig{Name: "local-ping", Namespace: src.Namespace, EnvSinkTimeout: "-1"}

	if *once {
		return pingOnce(src, kube, env, logger, *timeout)
	}

	runner := mtping.NewCronJobsRunner(adapter.ClientConfig{Env: env}, kube, logger.Sugar(), cron.WithParser(cronParser))
	if id := runner.AddSchedule(src); id < 0 {
		logger.Error("runner could not schedule the PingSource")
		return 1
	}
	ready := newReadiness(*readyFile, logger)
	defer ready.clear()
	stop := signalContext(logger, 10*time.Second, ready.clear)
	schedule := fullSchedule(src)
	sched, err := cronParser.Parse(schedule)
	if err != nil { // validated above; kept for safety
		logger.Error("schedule does not parse", zap.Error(err))
		return 2
	}
	go runner.Start(stop.Done())
	ready.set(fmt.Sprintf("READY ping source=%s/%s schedule=%q next=%s sink=%s",
		src.Namespace, src.Name, schedule, sched.Next(time.Now()).UTC().Format(time.RFC3339), sink))
	<-stop.Done()
	runner.Stop() // waits for a ping in progress
	return 0
}

// fullSchedule is the schedule string mtping hands to cron.
func fullSchedule(src *sourcesv1.PingSource) string {
	if src.Spec.Timezone != "" {
		return "CRON_TZ=" + src.Spec.Timezone + " " + src.Spec.Schedule
	}
	return src.Spec.Schedule
}

// pingOnce lets Knative's runner send exactly one ping now. The runner has no
// "fire now" and only logs the outcome, so the source is scheduled every
// second, the runner is stopped as soon as the first request goes out
// (cron.Stop waits for that tick, retries included), and the HTTP
// responses are observed at the transport.
func pingOnce(src *sourcesv1.PingSource, kube kubernetes.Interface, env *adapter.EnvConfig, logger *zap.Logger, timeout time.Duration) int {
	obs := &responseObserver{started: make(chan struct{})}
	cfg := adapter.ClientConfig{
		Env:     env,
		Options: []cehttp.Option{cehttp.WithRoundTripperDecorator(obs.decorate)},
	}
	runner := mtping.NewCronJobsRunner(cfg, kube, logger.Sugar(), cron.WithParser(cronParser))
	now := src.DeepCopy()
	now.Spec.Schedule = "* * * * * *"
	if id := runner.AddSchedule(now); id < 0 {
		logger.Error("runner could not schedule the PingSource")
		return 1
	}
	stopCh := make(chan struct{})
	go runner.Start(stopCh)
	defer close(stopCh)

	select {
	case <-obs.started:
	case <-time.After(timeout):
		logger.Error("no ping was sent", zap.Duration("timeout", timeout))
		return 1
	}
	runner.Stop()
	status, err := obs.last()
	if err == nil && status >= 200 && status < 300 {
		fmt.Printf("PING sent source=%s/%s sink=%s status=%d\n", src.Namespace, src.Name, src.Status.SinkURI, status)
		return 0
	}
	logger.Error("sink did not accept the ping", zap.Int("status", status), zap.Error(err))
	return 1
}

// responseObserver records the outcome of the last HTTP attempt.
type responseObserver struct {
	started chan struct{}
	once    sync.Once

	mu     sync.Mutex
	status int
	err    error
}

func (o *responseObserver) decorate(next nethttp.RoundTripper) nethttp.RoundTripper {
	return roundTripFunc(func(req *nethttp.Request) (*nethttp.Response, error) {
		o.once.Do(func() { close(o.started) })
		resp, err := next.RoundTrip(req)
		o.mu.Lock()
		defer o.mu.Unlock()
		o.status, o.err = 0, err
		if resp != nil {
			o.status = resp.StatusCode
		}
		return resp, err
	})
}

func (o *responseObserver) last() (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.status == 0 && o.err == nil {
		return 0, errors.New("no response")
	}
	return o.status, o.err
}

type roundTripFunc func(*nethttp.Request) (*nethttp.Response, error)

func (f roundTripFunc) RoundTrip(r *nethttp.Request) (*nethttp.Response, error) { return f(r) }
