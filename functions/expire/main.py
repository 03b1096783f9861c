"""The expire function (CloudEvent): the retention sweep, on a PingSource's schedule.

Served with ``functions-framework --target expire --signature-type cloudevent`` (port 8085);
the handler: :mod:`video2audio.expire.function`.
"""

from __future__ import annotations

import functions_framework

from video2audio.core.settings import get_settings
from video2audio.expire.function import build_handler
from video2audio.infra.events import CloudEvent
from video2audio.web.function_app import prepare_function_app

# Read and checked as the process starts: a configuration that cannot run refuses to start.
settings = get_settings()
prepare_function_app("expire", settings)
handler = build_handler(settings)


@functions_framework.cloud_event
def expire(event: CloudEvent) -> None:
    handler(event)
