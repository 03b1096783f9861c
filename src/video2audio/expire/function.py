"""The expire function: the retention sweep, triggered by a Knative PingSource.

Answers the sweep's JSON summary. Whoever can call this decides what is deleted, so in Knative
it is cluster-local only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask
from pymongo.database import Database

from video2audio.core.settings import Settings
from video2audio.expire.options import sweep_options
from video2audio.expire.sweep import expire_files
from video2audio.infra.clients import mongo_database
from video2audio.infra.events import CloudEvent
from video2audio.web.event_handler import run_event_handler
from video2audio.web.event_senders import SenderCheck, sender_check


@dataclass(frozen=True)
class ExpireFunction:
    settings: Settings
    database: Callable[[], Database] = mongo_database
    senders: SenderCheck | None = None

    def __call__(self, event: CloudEvent) -> None:
        run_event_handler(lambda: self.handle(event, flask.request.headers.get("Authorization")))

    def handle(self, event: CloudEvent, authorization: str | None = None) -> dict[str, Any]:
        if self.senders is not None:
            self.senders.verify(authorization)
        options = sweep_options(event, retention_seconds=self.settings.retention_seconds)
        return expire_files(self.database(), **options)


def build_handler(settings: Settings) -> ExpireFunction:
    return ExpireFunction(settings, senders=sender_check(settings))
