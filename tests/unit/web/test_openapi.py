"""The OpenAPI descriptions of auth and upload: valid 3.1, complete, and served with their docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from tests.support.functions import function_app
from video2audio.auth.routes import build_router as build_auth_router
from video2audio.core.settings import Settings
from video2audio.upload.routes import build_router as build_upload_router
from video2audio.web.openapi import DescriptionError, api_description, merge_descriptions

FUNCTIONS = ["auth", "upload"]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# HEAD and OPTIONS are left out of the comparison: werkzeug answers HEAD for every GET route,
# and OPTIONS is the router's CORS preflight, for every route alike.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
# Its 503 is the health report itself (which check failed), not an error body.
HEALTH_REPORTS = {("upload", "/healthz")}


def router_of(function: str):
    settings = Settings()
    if function == "auth":
        return build_auth_router(settings)
    return build_upload_router(settings, static_dir=Path("/nonexistent"))


def openapi_path(rule: str) -> str:
    """werkzeug's ``/jobs/<job_id>`` and ``/static/<path:path>`` as OpenAPI's ``/jobs/{job_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^:<>]+)>", r"{\1}", rule)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_description_is_valid_openapi_3_1(function):
    description = api_description(f"video2audio.{function}")
    errors = [error.message for error in OpenAPIV31SpecValidator(description).iter_errors()]
    assert errors == []
    assert description["openapi"].startswith("3.1")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_registered_route_is_described_and_nothing_else(function):
    registered = {
        (openapi_path(rule), method.lower())
        for rule, methods in router_of(function).rules()
        for method in methods - IMPLICIT_METHODS
    }
    described = {
        (path, method)
        for path, item in api_description(f"video2audio.{function}")["paths"].items()
        for method in item.keys() & HTTP_METHODS
        if method.upper() not in IMPLICIT_METHODS
    }
    assert described == registered


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_error_answer_is_described_as_a_json_error_body(function):
    description = api_description(f"video2audio.{function}")
    components = description["components"]
    undescribed = []
    for path, item in description["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                if "$ref" in response:
                    response = components["responses"][response["$ref"].rsplit("/", 1)[1]]
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                is_error = schema is not None and "Error" in schema.get("$ref", "")
                if not is_error and (function, path) not in HEALTH_REPORTS:
                    undescribed.append(f"{method.upper()} {path} {status}")
    assert undescribed == []


def test_a_path_described_by_a_function_and_the_shared_part_is_refused():
    common = {"openapi": "3.1.0", "servers": [{"url": "/"}], "paths": {"/docs": {}}}
    with pytest.raises(DescriptionError, match="/docs"):
        merge_descriptions({"paths": {"/docs": {}}}, common)


def test_a_component_defined_by_a_function_and_the_shared_part_is_refused():
    common = {
        "openapi": "3.1.0",
        "servers": [{"url": "/"}],
        "components": {"schemas": {"Error": {"type": "object"}}},
    }
    own = {"paths": {}, "components": {"schemas": {"Error": {"type": "string"}}}}
    with pytest.raises(DescriptionError, match="Error"):
        merge_descriptions(own, common)


@pytest.fixture(params=FUNCTIONS)
def client(request):
    return function_app(request.param).test_client()


def test_openapi_json_is_the_description_with_a_relative_server(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json()["servers"] == [{"url": "/"}]


def test_each_function_serves_its_own_description():
    served = {
        name: function_app(name).test_client().get("/openapi.json").json for name in FUNCTIONS
    }
    assert served["auth"]["info"]["title"] == "Video2Audio auth API"
    assert served["upload"]["info"]["title"] == "Video2Audio upload API"


def test_the_docs_page_allows_no_inline_script_or_style(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert b"<script>" not in response.data


@pytest.mark.parametrize(
    ("asset", "media_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
        ("docs.js", "text/javascript"),
        ("docs.css", "text/css"),
    ],
)
def test_the_docs_files_are_served_with_their_types(client, asset, media_type):
    response = client.get(f"/docs/{asset}")
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert len(response.data) > 100


@pytest.mark.parametrize("asset", ["swagger-initializer.js", "index.css", "..%2Fcore.py", "x"])
def test_no_other_file_is_served_under_docs(client, asset):
    response = client.get(f"/docs/{asset}")
    assert (response.status_code, response.get_json()) == (404, {"error": "not found"})


def test_the_docs_script_starts_swagger_ui_on_the_functions_own_description(client):
    script = client.get("/docs/docs.js").get_data(as_text=True)
    assert 'url: "/openapi.json"' in script
    assert "validatorUrl: null" in script
