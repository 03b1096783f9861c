package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/kelseyhightower/envconfig"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/zap"

	rmqadapter "knative.dev/eventing-rabbitmq/pkg/adapter"
	rmqv1alpha1 "knative.dev/eventing-rabbitmq/pkg/apis/sources/v1alpha1"
	"knative.dev/eventing-rabbitmq/pkg/reconciler/source/resources"
	"knative.dev/eventing/pkg/adapter/v2"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/logging"

	"github.com/video2audio/video2audio/go/internal/delivery"
)

// Placeholders for the Secret the cluster controller would mount: the
// Deployment env built by the real controller code references it, and we
// substitute the local broker URL for that reference.
const (
	localSecretName = "local-rabbitmq"
	localSecretKey  = "brokerURL"
)

// adapterEnvKeys are the variables the receive adapter reads. They are cleared
// before the manifest's values are applied so that nothing inherited from the
// caller's environment can override the manifest.
var adapterEnvKeys = []string{
	"RABBIT_URL", "RABBITMQ_VHOST", "RABBITMQ_PREDECLARED", "HTTP_SENDER_RETRY",
	"HTTP_SENDER_BACKOFF_POLICY", "HTTP_SENDER_BACKOFF_DELAY", "RABBITMQ_CHANNEL_PARALLELISM",
	"RABBITMQ_EXCHANGE_NAME", "RABBITMQ_QUEUE_NAME", "K_SINK", "NAME", "NAMESPACE",
	"K_LOGGING_CONFIG", "K_OBSERVABILITY_CONFIG", "K_CE_OVERRIDES", "K_AUDIENCE",
	"K_OIDC_SERVICE_ACCOUNT", "K_CA_CERTS",
}

// adapterEnv returns the environment the cluster's RabbitmqSource controller
// would give the receive-adapter container for src. It calls the controller's
// own MakeReceiveAdapter so that the local run and the cluster share one
// definition; only the broker Secret reference is replaced by rabbitURL.
func adapterEnv(src *rmqv1alpha1.RabbitmqSource, sink *url.URL, rabbitURL string) (map[string]string, error) {
	src = src.DeepCopy()
	if src.Spec.RabbitmqResourcesConfig == nil {
		return nil, errors.New("spec.rabbitmqResourcesConfig is required")
	}
	if src.Spec.RabbitmqResourcesConfig.Parallelism == nil {
		one := 1 // the CRD's default
		src.Spec.RabbitmqResourcesConfig.Parallelism = &one
	}
	sinkURL := apis.URL(*sink)
	deployment := resources.MakeReceiveAdapter(&resources.ReceiveAdapterArgs{
		Source:             src,
		SinkURI:            &sinkURL,
		RabbitMQSecretName: localSecretName,
		BrokerUrlSecretKey: localSecretKey,
	})
	env := map[string]string{}
	for _, e := range deployment.Spec.Template.Spec.Containers[0].Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = e.Value
		case e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == localSecretName &&
			e.ValueFrom.SecretKeyRef.Key == localSecretKey:
			env[e.Name] = rabbitURL
		default:
			return nil, fmt.Errorf("adapter env %s comes from a source this local runner cannot resolve", e.Name)
		}
	}
	return env, nil
}

func runRabbitmq(args []string) int {
	fs := flag.NewFlagSet("rabbitmq", flag.ContinueOnError)
	manifest := fs.String("manifest", os.Getenv("LOCAL_EVENTING_MANIFEST"), "RabbitmqSource manifest (YAML)")
	sinks := fs.String("sink-map", os.Getenv("LOCAL_EVENTING_SINK_MAP"), "Service name to local URL: name=url,name=url")
	rabbitURL := fs.String("rabbit-url", firstEnv("RABBIT_URL", "RABBITMQ_URL"), "AMQP URL of the broker (env RABBIT_URL or RABBITMQ_URL)")
	readyFile := fs.String("ready-file", "", "file written while the adapter is consuming, removed otherwise")
	grace := fs.Duration("shutdown-grace", 30*time.Second, "how long a stop signal waits for in-flight deliveries")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := newLogger()
	defer func() { _ = logger.Sync() }()
	if *manifest == "" || *rabbitURL == "" {
		logger.Error("--manifest and --rabbit-url (or RABBIT_URL/RABBITMQ_URL) are required")
		return 2
	}

	src, err := loadRabbitmqSource(*manifest)
	if err != nil {
		logger.Error("cannot read manifest", zap.Error(err))
		return 2
	}
	src.SetDefaults(context.Background())
	if fe := src.Validate(context.Background()); fe != nil {
		logger.Error("manifest is not a valid RabbitmqSource", zap.Error(fe))
		return 2
	}
	sm, err := parseSinkMap(*sinks)
	if err != nil {
		logger.Error("bad --sink-map", zap.Error(err))
		return 2
	}
	sink, err := sm.resolve(src.Spec.Sink)
	if err != nil {
		logger.Error("cannot resolve sink", zap.Error(err))
		return 2
	}
	if err := delivery.Check(src.Spec.Delivery); err != nil {
		logger.Error("manifest delivery spec would break the adapter", zap.Error(err))
		return 2
	}
	env, err := adapterEnv(src, sink, *rabbitURL)
	if err != nil {
		logger.Error("cannot build adapter environment", zap.Error(err))
		return 2
	}
	for _, k := range adapterEnvKeys {
		_ = os.Unsetenv(k)
	}
	for k, v := range env {
		// Empty values are left unset so the adapter's own defaults apply.
		if v != "" {
			_ = os.Setenv(k, v)
		}
	}
	// The cluster sets no K_SINK_TIMEOUT either (no timeout); saying so
	// explicitly avoids the client's "invalid sink timeout" warning. A
	// caller may still set it (seconds) to bound each HTTP attempt.
	if os.Getenv("K_SINK_TIMEOUT") == "" {
		_ = os.Setenv("K_SINK_TIMEOUT", "-1")
	}

	ready := newReadiness(*readyFile, logger)
	defer ready.clear()
	// The adapter's connection handler calls Fatal when it cannot reconnect
	// within ~6 s (in the cluster the pod then restarts). Re-executing this
	// binary in place reproduces that restart while keeping the process id a
	// supervisor knows.
	logger = logger.WithOptions(zap.WithFatalHook(reexecHook{ready: ready}))

	stop := signalContext(logger, *grace, ready.clear)
	queue := src.Spec.RabbitmqResourcesConfig.QueueName
	if err := waitForBroker(stop, *rabbitURL, logger); err != nil {
		return 0 // stopped before the broker came up
	}

	envCfg := rmqadapter.NewEnvConfig()
	if err := envconfig.Process("", envCfg); err != nil {
		logger.Error("adapter environment rejected", zap.Error(err))
		return 2
	}
	envCfg.SetComponent("rabbitmqsource")

	// The adapter sends with the context given to NewAdapter. It must not be
	// cancelled by a stop signal: a cancelled send would nack the message
	// without requeue and park it. Stopping goes through Start's context,
	// which lets in-flight deliveries finish.
	base := logging.WithLogger(context.Background(), logger.Sugar())
	ceClient, err := adapter.NewClient(adapter.ClientConfig{Env: envCfg})
	if err != nil {
		logger.Error("cannot create CloudEvents client", zap.Error(err))
		return 1
	}
	a := rmqadapter.NewAdapter(base, envCfg, ceClient)

	go ready.watchConsumers(stop, *rabbitURL, queue,
		fmt.Sprintf("READY rabbitmq source=%s/%s queue=%s sink=%s", src.Namespace, src.Name, queue, sink))

	logger.Info("starting Knative RabbitmqSource receive adapter",
		zap.String("source", src.Namespace+"/"+src.Name), zap.String("queue", queue),
		zap.String("sink", sink.String()), zap.Int("parallelism", *src.Spec.RabbitmqResourcesConfig.Parallelism))
	if err := a.Start(stop); err != nil {
		logger.Error("adapter stopped with error", zap.Error(err))
		return 1
	}
	logger.Info("adapter stopped")
	return 0
}

// waitForBroker blocks until an AMQP connection succeeds: the adapter's
// first connection attempt must not fail, as its connection watcher then
// dereferences a nil connection.
func waitForBroker(ctx context.Context, rabbitURL string, logger *zap.Logger) error {
	delay := 200 * time.Millisecond
	for {
		conn, err := amqp.Dial(rabbitURL)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		logger.Info("waiting for RabbitMQ", zap.Error(err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}
