"""The process's Prometheus metrics: every family the product exports, defined once.

Module-level objects in prometheus_client's default registry, which is what ``GET /metrics``
(:mod:`video2audio.web.metrics`) serves next to the library's process and Python collectors. A
function runs as one gunicorn worker process with threads (functions-framework's default
``WORKERS=1``), so one registry per process sees everything that process does; with several
worker processes each would report only its own share.

Label values are bounded: route templates (never raw paths), the formats, channels and outcomes
listed here, known event types or ``other``. The names are the contract the dashboard, the rules
and the tests share (README, "Operating it").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram, disable_created_metrics
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# The `_created` series prometheus_client adds to each counter and histogram double the series
# count and nothing here reads them.
disable_created_metrics()

PREFIX = "video2audio"
OTHER = "other"

FUNCTIONS = ("auth", "upload", "convert", "notify", "expire")
UPLOAD_OUTCOMES = ("accepted", "rejected", "failed")
# The output formats of video2audio.jobs.model.AudioFormat (a layer above: a test keeps them equal).
CONVERSION_FORMATS = ("mp3", "m4a", "opus", "flac", "wav")
CONVERSION_OUTCOMES = ("done", "failed", "retried")
NOTIFICATION_CHANNELS = ("email", "webhook")
NOTIFICATION_OUTCOMES = ("sent", "failed", "retried", "skipped")
EXPIRY_OUTCOMES = ("ok", "failed")

# From a cached JSON answer to a 2 GiB upload on a slow line.
HTTP_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
# A conversion takes from a second (a short clip) to about an hour (a long film as FLAC).
CONVERSION_SECONDS_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)
# Media seconds per wall second: below 1 is slower than real time; audio copies reach ~1000.
REALTIME_FACTOR_BUCKETS = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

HTTP_REQUESTS = Counter(
    f"{PREFIX}_http_requests",
    "HTTP requests answered, by function, route template, method and status code.",
    ["function", "route", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    f"{PREFIX}_http_request_duration_seconds",
    "Time from a request's arrival until its answer starts (a streamed body is not included).",
    ["function", "route", "method"],
    buckets=HTTP_SECONDS_BUCKETS,
)

UPLOADS = Counter(
    f"{PREFIX}_uploads",
    "Uploads by outcome: accepted (a job was created), rejected (4xx), failed (5xx).",
    ["outcome"],
)
UPLOAD_BYTES = Counter(f"{PREFIX}_upload_bytes", "Bytes of accepted uploads (the stored videos).")

CONVERSIONS = Counter(
    f"{PREFIX}_conversions",
    "Conversion attempts by output format and outcome: done, failed (permanently), retried.",
    ["format", "outcome"],
)
CONVERSION_DURATION = Histogram(
    f"{PREFIX}_conversion_duration_seconds",
    "Wall time of one successful conversion, from claiming the job to storing the audio.",
    ["format"],
    buckets=CONVERSION_SECONDS_BUCKETS,
)
CONVERSION_REALTIME_FACTOR = Histogram(
    f"{PREFIX}_conversion_realtime_factor",
    "Media duration divided by the wall time of one successful conversion.",
    ["format"],
    buckets=REALTIME_FACTOR_BUCKETS,
)
CONVERSION_READ_BYTES = Counter(
    f"{PREFIX}_conversion_read_bytes", "Video bytes read from GridFS by conversions.", ["format"]
)
CONVERSION_WRITTEN_BYTES = Counter(
    f"{PREFIX}_conversion_written_bytes",
    "Audio bytes written to GridFS by conversions.",
    ["format"],
)

NOTIFICATIONS = Counter(
    f"{PREFIX}_notifications",
    "Notifications by channel and outcome: sent, failed (permanently), retried, skipped.",
    ["channel", "outcome"],
)

EXPIRY_RUNS = Counter(
    f"{PREFIX}_expiry_runs", "Runs of the expire function by outcome.", ["outcome"]
)


class _Timestamp(Collector):
    """A gauge holding a unix time, absent until first set.

    A plain Gauge would export 0 from every function's process (each imports this module), and
    "how long since the last expiry" would then be measured from 1970 for four of them.
    """

    def __init__(self, name: str, documentation: str) -> None:
        self._name = name
        self._documentation = documentation
        self._value: float | None = None
        self._lock = threading.Lock()

    def set_to_current_time(self) -> None:
        with self._lock:
            self._value = time.time()

    def get(self) -> float | None:
        with self._lock:
            return self._value

    def collect(self) -> Iterator[Metric]:
        value = self.get()
        if value is not None:
            yield GaugeMetricFamily(self._name, self._documentation, value=value)

    def describe(self) -> Iterator[Metric]:
        # Registered before it has a value: describe() names the family for the registry's
        # duplicate check without calling collect().
        yield GaugeMetricFamily(self._name, self._documentation)


EXPIRY_LAST_SUCCESS = _Timestamp(
    f"{PREFIX}_expiry_last_success_timestamp_seconds",
    "Unix time at which the last successful expiry run of this process ended.",
)
REGISTRY.register(EXPIRY_LAST_SUCCESS)
EXPIRED_FILES = Counter(f"{PREFIX}_expired_files", "Stored files deleted by expiry runs.")
EXPIRED_BYTES = Counter(
    f"{PREFIX}_expired_bytes", "Bytes of the stored files deleted by expiry runs."
)

EVENTS_RECEIVED = Counter(
    f"{PREFIX}_events_received",
    "CloudEvents delivered to a function, by function, event type and answer class.",
    ["function", "type", "answer"],
)


def bounded(value: object, allowed: tuple[str, ...] | frozenset[str]) -> str:
    """``value`` as a label value if it is one of ``allowed``, else ``other``."""
    return value if isinstance(value, str) and value in allowed else OTHER


def status_class(status: int) -> str:
    """``2xx``, ``4xx`` or ``5xx`` (1xx and 3xx, which an event answer never is, count as 2xx)."""
    return "5xx" if status >= 500 else "4xx" if status >= 400 else "2xx"


def export_zeros(function: str) -> None:
    """Create ``function``'s own series with known labels at 0, so they exist before any event.

    Without it a counter appears only with its first increment: rate() over the first one is
    lost, and "no failures yet" cannot be told from "not scraped". Only the function that counts
    a family exports it, so four processes do not report zeros for the fifth one's work.
    """
    if function == "upload":
        for outcome in UPLOAD_OUTCOMES:
            UPLOADS.labels(outcome)
        UPLOAD_BYTES.inc(0)
    elif function == "convert":
        for audio_format in CONVERSION_FORMATS:
            for outcome in CONVERSION_OUTCOMES:
                CONVERSIONS.labels(audio_format, outcome)
    elif function == "notify":
        for channel in NOTIFICATION_CHANNELS:
            for outcome in NOTIFICATION_OUTCOMES:
                NOTIFICATIONS.labels(channel, outcome)
    elif function == "expire":
        for outcome in EXPIRY_OUTCOMES:
            EXPIRY_RUNS.labels(outcome)
