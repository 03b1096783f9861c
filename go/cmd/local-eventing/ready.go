package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// readiness publishes "this source is working" for a supervisor: a READY line
// on stdout at each transition to ready, and a file that exists only while
// ready (removed on exit, on lost consumers and before a restart).
type readiness struct {
	path   string
	logger *zap.Logger

	mu    sync.Mutex
	ready bool
}

func newReadiness(path string, logger *zap.Logger) *readiness {
	r := &readiness{path: path, logger: logger}
	r.clear() // a file left by an earlier run says nothing about this one
	return r
}

func (r *readiness) set(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready {
		return
	}
	r.ready = true
	if r.path != "" {
		// Written under a temporary name and renamed so a reader never sees
		// a half-written file.
		tmp := filepath.Join(filepath.Dir(r.path), "."+filepath.Base(r.path)+".tmp")
		if err := os.WriteFile(tmp, []byte(line+"\n"), 0o644); err == nil {
			err = os.Rename(tmp, r.path)
			if err != nil {
				r.logger.Error("cannot write ready file", zap.Error(err))
			}
		} else {
			r.logger.Error("cannot write ready file", zap.Error(err))
		}
	}
	fmt.Println(line)
}

func (r *readiness) clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready {
		r.logger.Warn("not ready any more")
	}
	r.ready = false
	if r.path != "" {
		if err := os.Remove(r.path); err != nil && !os.IsNotExist(err) {
			r.logger.Error("cannot remove ready file", zap.Error(err))
		}
	}
}

// watchConsumers marks the source ready while the queue has a consumer. The
// adapter exposes no hook for "consuming", so this asks the broker over a
// separate connection; locally nothing else consumes these queues, so a
// consumer on the queue is the adapter.
func (r *readiness) watchConsumers(ctx context.Context, rabbitURL, queue, line string) {
	var conn *amqp.Connection
	var ch *amqp.Channel
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if conn == nil || conn.IsClosed() || ch == nil || ch.IsClosed() {
			if conn != nil {
				_ = conn.Close()
			}
			conn, ch = nil, nil
			c, err := amqp.Dial(rabbitURL)
			if err != nil {
				r.clear()
				continue
			}
			conn = c
			if ch, err = conn.Channel(); err != nil {
				r.clear()
				continue
			}
		}
		// A passive declare of a missing queue closes the channel; it is
		// reopened on the next tick.
		q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		if err == nil && q.Consumers > 0 {
			r.set(line)
		} else {
			r.clear()
		}
	}
}

// reexecHook replaces zap's os.Exit on Fatal with an in-place restart of this
// program (same pid, arguments and environment), the local counterpart of a
// pod restart.
type reexecHook struct{ ready *readiness }

func (h reexecHook) OnWrite(*zapcore.CheckedEntry, []zapcore.Field) {
	h.ready.clear()
	time.Sleep(time.Second) // do not spin if the restart fails again at once
	// /proc/self/exe still works when the binary was rebuilt meanwhile.
	err := syscall.Exec("/proc/self/exe", os.Args, os.Environ())
	fmt.Fprintln(os.Stderr, "local-eventing: restart failed:", err)
	os.Exit(1)
}
