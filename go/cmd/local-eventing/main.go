// Command local-eventing runs Knative Eventing's own event sources on one
// machine without a cluster, configured from the manifests in knative/:
//
//	local-eventing rabbitmq --manifest knative/eventing/convert-source.yaml \
//	    --sink-map convert=http://127.0.0.1:8083 --rabbit-url amqp://...
//	local-eventing ping --manifest knative/eventing/expire-ping.yaml \
//	    --sink-map expire=http://127.0.0.1:8085 [--once]
//
// "rabbitmq" runs the RabbitmqSource receive adapter
// (knative.dev/eventing-rabbitmq/pkg/adapter); "ping" runs the PingSource
// cron runner (knative.dev/eventing/pkg/adapter/mtping).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "rabbitmq":
		os.Exit(runRabbitmq(os.Args[2:]))
	case "ping":
		os.Exit(runPing(os.Args[2:]))
	default:
		usage()
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: local-eventing rabbitmq|ping --manifest FILE --sink-map name=url[,name=url] [flags]")
}

// newLogger logs JSON lines to stderr (as the in-cluster adapters do), at
// LOG_LEVEL when that names a zap level.
func newLogger() *zap.Logger {
	cfg := zap.NewProductionConfig()
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.Sampling = nil
	cfg.DisableStacktrace = true
	// LOG_LEVEL is shared with the Python side, which spells it WARNING.
	level := strings.ToLower(os.Getenv("LOG_LEVEL"))
	if level == "warning" {
		level = "warn"
	}
	if lvl, err := zapcore.ParseLevel(level); err == nil {
		cfg.Level = zap.NewAtomicLevelAt(lvl)
	}
	logger, err := cfg.Build()
	if err != nil {
		panic(err)
	}
	return logger
}

func firstEnv(keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// signalContext is cancelled by the first SIGINT/SIGTERM. If the program has
// not finished grace later, or on a second signal, it exits at once; unacked
// RabbitMQ deliveries are then requeued by the broker, not lost.
func signalContext(logger *zap.Logger, grace time.Duration, cleanup func()) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		logger.Info("stopping", zap.String("signal", s.String()), zap.Duration("grace", grace))
		cancel()
		select {
		case s = <-sigs:
			logger.Warn("second signal, exiting now", zap.String("signal", s.String()))
		case <-time.After(grace):
			logger.Warn("grace period over, exiting with deliveries in flight")
		}
		cleanup()
		_ = logger.Sync()
		os.Exit(0)
	}()
	return ctx
}
