"""The public port lives in kind-config.yaml only: deploy.sh derives settings and URLs from it."""

from __future__ import annotations

from pathlib import Path

from tests.support.paths import ROOT
from tests.support.shell import compat32_env, run_deploy

SETTINGS = (ROOT / "knative/config/settings.yaml").read_text()


def _kind_config(tmp_path: Path, host_port: str) -> str:
    text = (ROOT / "kind-config.yaml").read_text().replace("hostPort: 80", f"hostPort: {host_port}")
    path = tmp_path / "kind-config.yaml"
    path.write_text(text)
    return str(path)


def test_settings_on_port_80_are_the_manifest_as_it_is():
    assert run_deploy("settings").stdout == SETTINGS


def test_another_host_port_reaches_public_urls_and_cors(tmp_path):
    env = compat32_env(KIND_CONFIG=_kind_config(tmp_path, "8080"))
    rendered = run_deploy("settings", env=env).stdout
    assert "  PUBLIC_UPLOAD_URL: http://upload.video2audio.127.0.0.1.sslip.io:8080\n" in rendered
    assert "  PUBLIC_AUTH_URL: http://auth.video2audio.127.0.0.1.sslip.io:8080\n" in rendered
    assert "  CORS_ALLOWED_ORIGINS: http://upload.video2audio.127.0.0.1.sslip.io:8080\n" in rendered


def test_printed_urls_carry_the_host_port(tmp_path):
    env = compat32_env(KIND_CONFIG=_kind_config(tmp_path, "8080"))
    assert (
        "upload  http://upload.video2audio.127.0.0.1.sslip.io:8080"
        in run_deploy("urls", env=env).stdout
    )


def test_a_kind_config_without_the_kourier_mapping_is_refused(tmp_path):
    path = tmp_path / "kind-config.yaml"
    path.write_text(
        (ROOT / "kind-config.yaml")
        .read_text()
        .replace("containerPort: 31080", "containerPort: 30080")
    )
    result = run_deploy("settings", env=compat32_env(KIND_CONFIG=str(path)), check=False)
    assert result.returncode == 1
    assert "maps no hostPort to containerPort 31080 (Kourier)" in result.stderr


def test_a_settings_url_edited_by_hand_is_refused(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        SETTINGS.replace("http://auth.video2audio.127.0.0.1.sslip.io", "http://auth.example:8080")
    )
    result = run_deploy("settings", env=compat32_env(SETTINGS_FILE=str(settings)), check=False)
    assert result.returncode == 1
    assert "PUBLIC_AUTH_URL is 'http://auth.example:8080', expected" in result.stderr
