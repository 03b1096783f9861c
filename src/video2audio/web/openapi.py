"""The OpenAPI 3.1 descriptions of the HTTP functions, served at ``GET /openapi.json``.

Each HTTP capability keeps its description as data beside its routes
(``video2audio/<capability>/openapi.yaml``), so what a client may send and gets back is read
and reviewed as one document rather than assembled by code. What every function shares (the
error bodies the router answers with, the security schemes, the documentation routes) is in
``openapi_common.yaml`` here and merged in. The files ship inside the package (pyproject's
package-data), are read once per process, and are checked in the tests: valid OpenAPI 3.1,
every registered route described and nothing else, and the running functions keep to them.
"""

from __future__ import annotations

import copy
import functools
import importlib.metadata
import importlib.resources
from collections.abc import Mapping
from typing import Any

import flask
import yaml

from video2audio.web.router import json_response

DESCRIPTION_FILE = "openapi.yaml"
COMMON_FILE = "openapi_common.yaml"


class DescriptionError(ValueError):
    """A description file cannot be merged: a path or component is defined twice."""


def _read_yaml(package: str, name: str) -> dict[str, Any]:
    text = importlib.resources.files(package).joinpath(name).read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise DescriptionError(f"{package}/{name} is not a mapping")
    return loaded


def merge_descriptions(own: Mapping[str, Any], common: Mapping[str, Any]) -> dict[str, Any]:
    """``own`` with the shared paths and components of ``common``; a name in both is an error.

    A function redefining a shared error body or scheme would silently disagree with the
    other function, so that is refused rather than overridden.
    """
    merged = copy.deepcopy(dict(own))
    merged["openapi"] = common["openapi"]
    merged["servers"] = copy.deepcopy(common["servers"])
    paths = merged.setdefault("paths", {})
    for path, item in common.get("paths", {}).items():
        if path in paths:
            raise DescriptionError(f"the path {path} is described twice")
        paths[path] = copy.deepcopy(item)
    components = merged.setdefault("components", {})
    for section, entries in common.get("components", {}).items():
        target = components.setdefault(section, {})
        for name, entry in entries.items():
            if name in target:
                raise DescriptionError(f"components/{section}/{name} is defined twice")
            target[name] = copy.deepcopy(entry)
    return merged


@functools.cache
def _description(package: str) -> dict[str, Any]:
    description = merge_descriptions(
        _read_yaml(package, DESCRIPTION_FILE), _read_yaml(__package__, COMMON_FILE)
    )
    description["info"]["version"] = importlib.metadata.version("video2audio")
    return description


def api_description(package: str) -> dict[str, Any]:
    """The complete description of the capability ``package`` (e.g. ``video2audio.auth``).

    A copy: the cached one stays as read.
    """
    return copy.deepcopy(_description(package))


def description_response(package: str) -> flask.Response:
    """``GET /openapi.json``: the description, which only changes with a new release."""
    response = json_response(_description(package))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
