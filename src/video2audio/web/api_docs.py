"""Browsable API documentation at ``GET /docs``: Swagger UI, served by the function itself.

Swagger UI comes from PyPI: the ``swagger-ui-py`` package ships Swagger UI's built files, and
only those files are used (never that package's framework glue or page template, whose inline
script a strict Content-Security-Policy forbids). Nothing comes from a CDN, so the page works
where the function works and sends nothing elsewhere. The page itself and the script that starts
Swagger UI on ``/openapi.json`` are ours, in ``docs_page/``.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import flask

from video2audio.core.errors import NotFoundError
from video2audio.web.security_headers import docs_policy
from video2audio.web.static_files import static_file

OWN_DIR = Path(__file__).resolve().parent / "docs_page"
OWN_FILES = frozenset({"docs.js", "docs.css"})
# What the page loads of Swagger UI; nothing else of the package is served.
SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})


@functools.cache
def swagger_ui_dir() -> Path:
    """Where the swagger-ui-py package keeps Swagger UI's files (found, not imported)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def docs_page() -> flask.Response:
    response = static_file(OWN_DIR, "index.html")
    response.headers["Content-Security-Policy"] = docs_policy()
    return response


def docs_asset(name: str) -> flask.Response:
    """One of the page's files; any other name is a 404."""
    if name in OWN_FILES:
        return static_file(OWN_DIR, name)
    if name in SWAGGER_UI_FILES:
        return static_file(swagger_ui_dir(), name)
    raise NotFoundError("not found")


def api_docs(request: flask.Request, context: object) -> flask.Response:
    """``GET /docs``, the same view on every HTTP function."""
    return docs_page()


def api_docs_file(request: flask.Request, context: object, asset: str) -> flask.Response:
    """``GET /docs/<asset>``, the same view on every HTTP function."""
    return docs_asset(asset)
