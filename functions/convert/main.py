"""The convert function (CloudEvent): a ``video.uploaded`` CloudEvent in, the job's audio file out.

Served with ``functions-framework --target convert --signature-type cloudevent`` (port 8083);
the handler: :mod:`video2audio.convert.function`.
"""

from __future__ import annotations

import functions_framework

from video2audio.convert.function import build_handler
from video2audio.core.settings import get_settings
from video2audio.infra.events import CloudEvent
from video2audio.web.function_app import prepare_function_app

# Read and checked as the process starts: a configuration that cannot run refuses to start.
settings = get_settings()
prepare_function_app("convert", settings)
handler = build_handler(settings)


@functions_framework.cloud_event
def convert(event: CloudEvent) -> None:
    handler(event)
