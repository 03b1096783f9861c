"""The upload function's pages: the web page (its files, Content-Security-Policy and config) and
the API's description and documentation."""

from __future__ import annotations

import flask

from video2audio.upload.context import UploadContext
from video2audio.web.openapi import description_response
from video2audio.web.router import json_response
from video2audio.web.security_headers import page_policy
from video2audio.web.static_files import index_page, static_file


def page_config(request: flask.Request, context: UploadContext) -> flask.Response:
    settings = context.settings
    return json_response(
        {
            "auth_url": settings.public_auth_url,
            "upload_url": settings.public_upload_url,
            "max_upload_bytes": settings.max_upload_bytes,
            # Files this large go through resumable (tus) uploads at /files/.
            "resumable_upload_threshold_bytes": settings.resumable_upload_threshold_bytes,
        }
    )


def page(request: flask.Request, context: UploadContext) -> flask.Response:
    response = index_page(context.static_dir)
    response.headers["Content-Security-Policy"] = page_policy(
        api_origins=(context.settings.public_upload_url, context.settings.public_auth_url)
    )
    return response


def page_file(request: flask.Request, context: UploadContext, path: str) -> flask.Response:
    return static_file(context.static_dir, path)


def openapi_description(request: flask.Request, context: UploadContext) -> flask.Response:
    return description_response(__package__)
