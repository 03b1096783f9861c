"""The notify function (CloudEvent): an email and a signed webhook when a conversion ends.

Served with ``functions-framework --target notify --signature-type cloudevent`` (port 8084);
the handler: :mod:`video2audio.notify.function`.
"""

from __future__ import annotations

import functions_framework

from video2audio.core.settings import get_settings
from video2audio.infra.events import CloudEvent
from video2audio.notify.function import build_handler
from video2audio.web.function_app import prepare_function_app

# Read and checked as the process starts: a configuration that cannot run refuses to start.
settings = get_settings()
prepare_function_app("notify", settings)
handler = build_handler(settings)


@functions_framework.cloud_event
def notify(event: CloudEvent) -> None:
    handler(event)
