"""Helpers of the convert tests (fixtures stay in their conftest.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pika
import pika.exceptions
import requests

from video2audio.infra import clients
from video2audio.infra.events import VIDEO_UPLOADED, build_event, to_http_binary
from video2audio.infra.topology import declare_topology

LEASE_SECONDS = "3"


def reset_cached_settings() -> None:
    """Settings and the clients built from them are cached per process: rebuild after a change."""
    clients.reset_clients()


def uploaded_event(job: dict[str, Any], *, traceparent: str | None = None):
    data = {
        "job_id": job["_id"],
        "video_fid": str(job["video_fid"]),
        "owner": job["owner"],
        "output": job["output"],
    }
    return build_event(
        VIDEO_UPLOADED,
        data,
        source="/video2audio/upload",
        subject=job["_id"],
        traceparent=traceparent,
    )


def post_event(client, event) -> Any:
    headers, body = to_http_binary(event)
    return client.post("/", headers=headers, data=body)


class NotifyQueue:
    """Reads the tests' notify queue, keeping every event it saw by job id."""

    def __init__(self, url: str, queue: str) -> None:
        self.queue = queue
        self._url = url
        self._connect()
        self._seen: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._traceparents: dict[str, list[str | None]] = {}

    def _connect(self) -> None:
        self._connection = pika.BlockingConnection(pika.URLParameters(self._url))
        self._channel = self._connection.channel()
        declare_topology(self._channel, clients.messaging_topology())

    def events_for(self, job_id: str, *, count: int = 1, timeout: float = 10.0) -> list:
        """The (type, data) events published for ``job_id``, once ``count`` arrived."""
        deadline = time.monotonic() + timeout
        while len(self._seen.get(job_id, [])) < count and time.monotonic() < deadline:
            try:
                method, properties, body = self._channel.basic_get(self.queue, auto_ack=True)
            except pika.exceptions.AMQPError:
                self._connect()  # a test restarted RabbitMQ
                continue
            if method is None:
                time.sleep(0.1)
                continue
            data = json.loads(body)
            event_type = (properties.headers or {}).get("ce-type")
            self._seen.setdefault(data.get("job_id"), []).append((event_type, data))
            traceparent = (properties.headers or {}).get("ce-traceparent")
            self._traceparents.setdefault(data.get("job_id"), []).append(traceparent)
        return list(self._seen.get(job_id, []))

    def traceparents_for(self, job_id: str, *, count: int = 1, timeout: float = 10.0) -> list:
        """The ``traceparent`` of each event published for ``job_id`` (None: it had none)."""
        self.events_for(job_id, count=count, timeout=timeout)
        return list(self._traceparents.get(job_id, []))

    def close(self) -> None:
        try:
            self._connection.process_data_events(0)
        except pika.exceptions.AMQPError:
            self._connect()
        topology = clients.messaging_topology()
        for queue in topology.queues:
            if queue == self.queue:
                self._channel.queue_delete(queue)
                self._channel.queue_delete(topology.parked_queue(queue))
        self._connection.close()


def post_event_http(url: str, event, timeout: float = 120) -> requests.Response:
    headers, body = to_http_binary(event)
    return requests.post(url, headers=headers, data=body, timeout=timeout)


def ffmpeg_children(pid: int) -> list[int]:
    """ffmpeg processes descended from ``pid`` (a server may fork workers), read from /proc."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        names[int(entry.name)] = stat[stat.index("(") + 1 : stat.rindex(")")]
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])

    def descends(candidate: int) -> bool:
        while candidate in parents and candidate > 1:
            candidate = parents[candidate]
            if candidate == pid:
                return True
        return False

    return [p for p, name in names.items() if name == "ffmpeg" and descends(p)]
