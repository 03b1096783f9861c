"""The local PingSource: Knative's mtping cron runner run by `local-eventing ping` from the
repository's expire-ping manifest, posting to a real HTTP server."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.eventing import source_env

MANIFEST = Path(__file__).resolve().parents[3] / "knative" / "eventing" / "expire-ping.yaml"


def ping(binary: Path, sink_url: str, *args: str, manifest: Path = MANIFEST):
    return subprocess.run(
        [
            str(binary),
            "ping",
            "--manifest",
            str(manifest),
            "--sink-map",
            f"expire={sink_url}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=source_env(),
    )


def test_once_posts_the_ping_cloudevent_with_the_manifests_data(local_eventing, sink):
    result = ping(local_eventing, sink.url, "--once")

    assert result.returncode == 0, result.stderr
    (request,) = sink.wait_for(1)
    assert request.headers["ce-type"] == "dev.knative.sources.ping"
    assert request.headers["ce-source"] == "/apis/v1/namespaces/video2audio/pingsources/expire-ping"
    assert request.headers["ce-specversion"] == "1.0"
    assert request.headers["ce-id"]
    assert request.headers["content-type"] == "application/json"
    assert request.body == b"{}"


def test_once_with_data_sends_that_data_instead_of_the_manifests(local_eventing, sink):
    result = ping(local_eventing, sink.url, "--once", "--data", '{"dry_run": true}')

    assert result.returncode == 0, result.stderr
    (request,) = sink.wait_for(1)
    assert request.body == b'{"dry_run": true}'
    assert request.headers["ce-type"] == "dev.knative.sources.ping"


def test_once_exits_non_zero_when_the_sink_answers_an_error(local_eventing, sink):
    sink.always = 500

    result = ping(local_eventing, sink.url, "--once")

    assert result.returncode != 0
    assert len(sink.requests) == 1


def test_once_exits_non_zero_when_the_sink_is_down(local_eventing):
    result = ping(local_eventing, "http://127.0.0.1:9", "--once")

    assert result.returncode != 0


def test_schedule_parses_and_next_run_is_on_a_five_minute_boundary_in_utc(
    local_eventing, sink, tmp_path
):
    ready = tmp_path / "ping.ready"
    process = subprocess.Popen(
        [
            str(local_eventing),
            "ping",
            "--manifest",
            str(MANIFEST),
            "--sink-map",
            f"expire={sink.url}",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=source_env(),
    )
    try:
        line = process.stdout.readline()
    finally:
        process.terminate()
        process.wait(15)

    match = re.search(r'^READY ping source=\S+ schedule="(.+)" next=(\S+)', line)
    assert match, line
    assert "source=video2audio/expire-ping " in line
    assert match.group(1) == "CRON_TZ=Etc/UTC * * * * *"
    next_run = datetime.fromisoformat(match.group(2))
    assert next_run.tzinfo is not None and next_run.utcoffset() == timedelta(0)
    assert next_run.second == 0
    assert timedelta(0) < next_run - datetime.now(UTC) <= timedelta(minutes=1)
    assert process.returncode == 0
    assert not ready.exists()


def test_invalid_schedule_is_rejected_before_anything_runs(local_eventing, sink, tmp_path):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(MANIFEST.read_text().replace('"* * * * *"', '"* * *"'))

    result = ping(local_eventing, sink.url, "--once", manifest=manifest)

    assert result.returncode == 2
    assert "schedule" in result.stderr
    assert sink.requests == []
