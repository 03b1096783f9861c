"""What every view of the upload function is called with: settings, client getters, quotas."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
from pymongo.database import Database

from video2audio.core.errors import BadRequestError
from video2audio.core.settings import Settings
from video2audio.infra.clients import mongo_database, rabbit_publisher
from video2audio.infra.messaging import RabbitPublisher
from video2audio.jobs import quotas
from video2audio.upload import job_views
from video2audio.web.router import authenticate


@dataclass(frozen=True)
class UploadContext:
    """Built once per process by :func:`~video2audio.upload.routes.build_router`."""

    settings: Settings
    static_dir: Path
    database: Callable[[], Database] = mongo_database
    publisher: Callable[[], RabbitPublisher] = rabbit_publisher

    @property
    def base_url(self) -> str:
        return self.settings.public_upload_url.rstrip("/")

    def owner_of(self, request: flask.Request) -> str:
        return authenticate(request, self.settings).username

    @property
    def quota(self) -> quotas.Quota:
        settings = self.settings
        return quotas.Quota(
            max_active_jobs=settings.max_active_jobs_per_user,
            max_stored_bytes=settings.max_stored_bytes_per_user,
            max_uploads_per_hour=settings.max_uploads_per_hour,
        )

    def view(self, job: Mapping[str, Any]) -> dict[str, Any]:
        return job_views.job_view(
            job, retention_seconds=self.settings.retention_seconds, base_url=self.base_url
        )


def required_arg(request: flask.Request, name: str) -> str:
    # request.args values are always strings: `fid[$ne]=` is just an unknown parameter here,
    # never a query operator.
    value = request.args.get(name)
    if not value:
        raise BadRequestError(f"the {name} query parameter is required")
    return value
