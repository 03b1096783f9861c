"""The web page's files, its configuration, and the health check."""

from __future__ import annotations

import pytest

from tests.support.uploads import settings_app
from video2audio.core.settings import get_settings


def test_the_root_serves_the_page(upload_client):
    response = upload_client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b"<html" in response.data.lower()
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_assets_have_their_content_types(upload_client):
    script = upload_client.get("/static/app.js")
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"
    assert upload_client.get("/static/app.css").mimetype == "text/css"


def test_paths_outside_the_static_folder_are_404(upload_client):
    assert upload_client.get("/static/../main.py").status_code == 404
    assert upload_client.get("/static/%2e%2e/main.py").status_code == 404
    assert upload_client.get("/static/no-such-file.js").status_code == 404


def test_without_the_page_files_the_root_is_a_json_404(tmp_path):
    client = settings_app(static_dir=tmp_path).test_client()
    response = client.get("/")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}


def test_nested_static_paths_are_served_from_the_folder(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    client = settings_app(static_dir=tmp_path).test_client()
    response = client.get("/static/img/logo.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert client.get("/static/img/../../etc/passwd").status_code == 404
    assert client.get("/static/.hidden").status_code == 404


def test_config_tells_the_page_where_auth_and_upload_are(upload_client):
    body = upload_client.get("/config.json").get_json()
    assert body["auth_url"] == "http://127.0.0.1:8081"
    assert body["upload_url"] == "http://127.0.0.1:8082"
    assert body["max_upload_bytes"] > 0


def test_config_follows_the_settings():
    client = settings_app(public_auth_url="https://auth.example.com").test_client()
    assert client.get("/config.json").get_json()["auth_url"] == "https://auth.example.com"


def test_healthz_is_200_when_mongodb_and_rabbitmq_answer(upload_client):
    response = upload_client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"mongodb": True, "rabbitmq": True}}


def test_an_unknown_route_is_a_json_404(upload_client):
    response = upload_client.get("/nope")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}


def test_a_wrong_method_is_a_405_with_allow(upload_client):
    response = upload_client.put("/upload")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_an_unexpected_error_is_a_generic_500_with_the_detail_only_in_the_log(alice, caplog):
    def broken_database():
        raise RuntimeError("secret internal detail")

    client = settings_app(database=broken_database).test_client()
    response = client.get("/jobs", headers=alice.headers)
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error"}
    assert "secret internal detail" in caplog.text


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_the_page_allows_only_its_own_scripts_styles_media_and_the_api_origins(upload_client):
    settings = get_settings()
    directives = csp_directives(upload_client.get("/"))
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["media-src"] == ["'self'", "blob:"]
    assert set(directives["connect-src"]) == {
        "'self'",
        settings.public_auth_url.rstrip("/"),
        settings.public_upload_url.rstrip("/"),
    }
    assert not any("unsafe" in value for values in directives.values() for value in values)


@pytest.mark.parametrize(
    "path", ["/static/app.js", "/static/app.css", "/", "/config.json", "/no-such-route", "/jobs"]
)
def test_every_upload_response_carries_nosniff(upload_client, path):
    assert upload_client.get(path).headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/verify", "/no-such-route", "/healthz"])
def test_every_auth_response_carries_nosniff(auth_client, path):
    assert auth_client.get(path).headers["X-Content-Type-Options"] == "nosniff"
