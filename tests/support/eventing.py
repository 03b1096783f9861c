"""Helpers of the local event source tests: queues, a recording HTTP sink, manifests, processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pika

from tests.support.paths import ROOT

BINARY = ROOT / ".run" / "bin" / "local-eventing"

EXCHANGE = "video2audio"
DEAD_LETTER_EXCHANGE = "video2audio.dlx"


def connect(url: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(url))


@dataclass
class Queue:
    """A test-unique work queue with its parked queue, declared like the production topology."""

    url: str
    name: str

    @property
    def parked(self) -> str:
        return f"{self.name}.parked"

    def publish(self, body: bytes, *, headers: dict | None = None, **props) -> None:
        connection = connect(self.url)
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_publish(
                EXCHANGE,
                self.name,
                body,
                pika.BasicProperties(delivery_mode=2, headers=headers, **props),
                mandatory=True,
            )
        finally:
            connection.close()

    def counts(self) -> tuple[int, int]:
        """(messages ready in the queue, messages in its parked queue)."""
        connection = connect(self.url)
        try:
            channel = connection.channel()
            main = channel.queue_declare(self.name, passive=True).method.message_count
            parked = channel.queue_declare(self.parked, passive=True).method.message_count
            return main, parked
        finally:
            connection.close()

    def get_parked(self) -> tuple[pika.spec.BasicProperties, bytes] | None:
        connection = connect(self.url)
        try:
            channel = connection.channel()
            method, properties, body = channel.basic_get(self.parked, auto_ack=True)
            return None if method is None else (properties, body)
        finally:
            connection.close()


@dataclass
class Request:
    at: float
    headers: dict[str, str]
    body: bytes


@dataclass
class Sink:
    """A real HTTP server recording every POST; `statuses` are answered in order, then 200."""

    url: str
    requests: list[Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    always: int | None = None
    hold: threading.Event | None = None
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"sink got {len(self.requests)} requests, expected {count}")


def rabbitmq_source_manifest(
    queue: str,
    *,
    parallelism: int = 1,
    retry: int = 2,
    backoff_delay: str = "PT0.1S",
    backoff_policy: str = "exponential",
) -> str:
    return f"""\
apiVersion: sources.knative.dev/v1alpha1
kind: RabbitmqSource
metadata:
  name: test-source
  namespace: video2audio
spec:
  rabbitmqClusterReference:
    name: rabbitmq
  rabbitmqResourcesConfig:
    predeclared: true
    queueName: {queue}
    parallelism: {parallelism}
  delivery:
    retry: {retry}
    backoffPolicy: {backoff_policy}
    backoffDelay: {backoff_delay}
  sink:
    ref:
      apiVersion: serving.knative.dev/v1
      kind: Service
      name: convert
"""


@dataclass
class Process:
    popen: subprocess.Popen
    ready_file: Path
    log: Path

    def logs(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_file.exists():
                return
            if self.popen.poll() is not None:
                code = self.popen.returncode
                raise AssertionError(f"local-eventing exited {code}:\n{self.logs()}")
            time.sleep(0.05)
        raise AssertionError(f"local-eventing not ready after {timeout}s:\n{self.logs()}")

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode


def source_env() -> dict[str, str]:
    env = os.environ.copy()
    env["LOG_LEVEL"] = "info"  # the adapter's per-message lines help when a test fails
    return env


def cloudevent_headers(event_type: str, event_id: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-type": event_type,
        "ce-source": "/video2audio/upload",
        "ce-id": event_id,
        "content-type": "application/json",
    }


def json_body(data: object) -> bytes:
    return json.dumps(data).encode()
