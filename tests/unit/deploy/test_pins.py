"""deploy.sh's content pins: release YAMLs and the base image are checked against their sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support.shell import compat32_env, run_deploy, run_sourced

PYTHON_BASE = "docker.io/library/python:3.11.10-slim-bookworm"


@pytest.fixture
def release(tmp_path):
    """A release YAML served at a file:// URL (curl reads it as it would an https one)."""
    path = tmp_path / "serving-core.yaml"
    path.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: knative-serving\n")
    return path


@pytest.fixture
def pins(tmp_path):
    path = tmp_path / "pins.sha256"
    path.write_text("# pins\n")
    return path


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _release_file(url: str, pins, **extra: str):
    return run_deploy(
        "release-file",
        url,
        env=compat32_env(PINS_FILE=str(pins), TMPDIR=str(pins.parent), **extra),
        check=False,
    )


def test_a_release_used_the_first_time_is_pinned_by_its_sha256(release, pins):
    result = _release_file(release.as_uri(), pins)
    assert result.returncode == 0, result.stderr
    assert f"{_sha256(release)}  {release.as_uri()}" in pins.read_text().splitlines()
    assert "on first use" in result.stderr


def test_a_release_matching_its_pin_is_handed_over_unchanged(release, pins):
    pins.write_text(f"{_sha256(release)}  {release.as_uri()}\n")
    result = _release_file(release.as_uri(), pins)
    assert result.returncode == 0, result.stderr
    downloaded = result.stdout.strip()
    assert Path(downloaded).read_text() == release.read_text()
    Path(downloaded).unlink()
    assert pins.read_text().count(release.as_uri()) == 1


def test_a_release_that_changed_under_its_url_stops_the_deploy(release, pins):
    pinned = _sha256(release)
    pins.write_text(f"{pinned}  {release.as_uri()}\n")
    release.write_text(release.read_text() + "---\nkind: ClusterRoleBinding\n")
    result = _release_file(release.as_uri(), pins)
    assert result.returncode == 1
    assert f"{release.as_uri()} has sha256 {_sha256(release)}, but" in result.stderr
    assert f"pins {pinned}" in result.stderr
    assert result.stdout == ""


def test_a_release_that_cannot_be_downloaded_names_its_url(tmp_path, pins):
    missing = (tmp_path / "nowhere.yaml").as_uri()
    result = _release_file(missing, pins, DOWNLOAD_TIMEOUT_SECONDS="5")
    assert result.returncode == 1
    assert f"could not download {missing} within 5 s" in result.stderr
    assert missing not in pins.read_text()


def test_the_base_image_is_built_from_its_tag_until_a_digest_is_pinned(pins):
    result = run_deploy("build-args", "auth", env=compat32_env(PINS_FILE=str(pins)))
    assert f"PYTHON_BASE_IMAGE={PYTHON_BASE}" in result.stdout.splitlines()


def test_the_base_image_is_built_from_its_pinned_digest(pins):
    digest = "ab" * 32
    pins.write_text(f"{digest}  {PYTHON_BASE}\n")
    result = run_deploy("build-args", "auth", env=compat32_env(PINS_FILE=str(pins)))
    assert f"PYTHON_BASE_IMAGE={PYTHON_BASE}@sha256:{digest}" in result.stdout.splitlines()


def test_the_pulled_base_image_digest_is_checked_against_its_pin(tmp_path, pins):
    # A stand-in `docker` on PATH answering as Docker does for a tag that moved.
    fake = tmp_path / "bin"
    fake.mkdir()
    docker = fake / "docker"
    docker.write_text(
        "#!/bin/sh\n"
        '[ "$1" = pull ] && exit 0\n'
        f'echo "docker.io/library/python@sha256:{"cd" * 32}"\n'
    )
    docker.chmod(0o755)
    pins.write_text(f"{'ab' * 32}  {PYTHON_BASE}\n")
    env = compat32_env(PINS_FILE=str(pins))
    env["PATH"] = f"{fake}:{env['PATH']}"
    result = run_sourced("pin_base_image", env=env)
    assert result.returncode == 1
    assert f"{PYTHON_BASE} has sha256 {'cd' * 32}, but" in result.stderr
