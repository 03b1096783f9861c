"""The convert function: a ``video.uploaded`` CloudEvent in, the job's audio file out.

Outcomes map to HTTP answers in one place
(:func:`~video2audio.web.event_handler.run_event_handler`): 2xx acknowledges the message, including
permanent failures recorded on the job; 503 asks the event source to retry later; 400 rejects an
event that cannot be understood.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from video2audio.convert.handler import ConvertConfig, handle_video_uploaded
from video2audio.convert.heap import return_large_buffers
from video2audio.core.logs import bind_log_context
from video2audio.core.settings import Settings
from video2audio.core.tracing import Span, new_trace
from video2audio.infra.clients import mongo_database, rabbit_publisher
from video2audio.infra.events import VIDEO_UPLOADED, CloudEvent, event_data
from video2audio.infra.messaging import RabbitPublisher
from video2audio.infra.remote_fetch import FetchPolicy
from video2audio.jobs.model import is_job_id
from video2audio.web.event_handler import event_scope, run_event_handler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvertFunction:
    settings: Settings
    database: Callable[[], Database] = mongo_database
    publisher: Callable[[], RabbitPublisher] = rabbit_publisher

    def __call__(self, event: CloudEvent) -> None:
        with event_scope(event) as span:
            run_event_handler(
                lambda: self.handle(event, span), function="convert", event_type=event["type"]
            )

    def handle(self, event: CloudEvent, span: Span | None = None) -> dict[str, Any]:
        data = event_data(event, expected_types=(VIDEO_UPLOADED,))
        if is_job_id(data.get("job_id")):
            bind_log_context(job_id=data["job_id"])
        config = ConvertConfig(
            lease_seconds=self.settings.convert_lease_seconds,
            timeout_seconds=self.settings.convert_timeout_seconds,
            notify_queue=self.settings.notify_queue,
            probe_timeout_seconds=self.settings.probe_timeout_seconds,
            max_duration_seconds=self.settings.max_duration_seconds,
            max_output_bytes=self.settings.max_output_bytes,
            import_policy=FetchPolicy(
                max_bytes=self.settings.max_upload_bytes,
                timeout_seconds=self.settings.import_timeout_seconds,
                max_redirects=self.settings.import_max_redirects,
                allow_private=self.settings.import_allow_private,
                allowed_networks=self.settings.import_allowed_networks,
            ),
        )
        logger.info("event %s (%s) for job %s", event["id"], event["type"], data.get("job_id"))
        return handle_video_uploaded(
            data,
            db=self.database(),
            publisher=self.publisher(),
            config=config,
            traceparent=(span or new_trace()).traceparent,
        )


def build_handler(settings: Settings) -> ConvertFunction:
    return_large_buffers()
    return ConvertFunction(settings)
