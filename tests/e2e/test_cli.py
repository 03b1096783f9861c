"""The ``video2audio`` command-line client, run as a subprocess against the running stack."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from pymongo import MongoClient

from tests.support.convert_media import audio_packets_md5
from tests.support.media import make_video, probe
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).with_name("video2audio"))
PASSWORD = "cli-password-1"

Run = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return make_video(tmp_path_factory.mktemp("cli-media") / "talk.mp4", seconds=4, size="320x240")


@pytest.fixture
def run(stack, tmp_path) -> Run:
    """Run the CLI with its own config directory and the stack's URLs (from the environment)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "VIDEO2AUDIO_AUTH_URL": stack.auth_url,
        "VIDEO2AUDIO_UPLOAD_URL": stack.upload_url,
    }

    def run(*args: str, password: str | None = None, timeout: float = 240, path: str | None = None):
        extra = {"VIDEO2AUDIO_PASSWORD": password} if password else {}
        if path is not None:
            extra["PATH"] = path
        return subprocess.run(
            [CLI, *args],
            env={**env, **extra},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    return run


@pytest.fixture
def logged_in(run: Run, tmp_path: Path) -> str:
    username = f"cli-{uuid.uuid4().hex[:10]}"
    assert run("register", "-u", username, password=PASSWORD).returncode == 0
    result = run("login", "-u", username, password=PASSWORD)
    assert result.returncode == 0, result.stderr
    return username


def _single_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_login_stores_the_token_readable_only_by_the_user(logged_in, tmp_path):
    stored = tmp_path / "config" / "video2audio" / "session.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert logged_in in stored.read_text()


def test_convert_to_two_formats_writes_playable_audio(run, logged_in, video, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for output_format, codec in (("mp3", "mp3"), ("opus", "opus")):
        result = run("convert", str(video), "--format", output_format, "-o", str(out))
        assert result.returncode == 0, result.stderr
        written = Path(result.stdout.strip())
        assert written.parent == out
        assert written.stem == "talk"
        facts = probe(written)
        assert facts["streams"][0]["codec_name"] == codec
        assert float(facts["format"]["duration"]) == pytest.approx(4, abs=0.5)


def test_several_files_convert_one_after_another(run, logged_in, video, tmp_path):
    second = tmp_path / "second.mp4"
    second.write_bytes(video.read_bytes())
    out = tmp_path / "out"
    result = run("convert", str(video), str(second), "--format", "m4a", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(out / "talk.m4a"), str(out / "second.m4a")]
    assert probe(out / "second.m4a")["streams"][0]["codec_name"] == "aac"


def test_jobs_lists_and_delete_removes_a_job(run, logged_in, video):
    job_id = run("convert", str(video), "--no-wait").stdout.strip()
    assert job_id in run("jobs").stdout
    assert run("delete", job_id).returncode == 0
    gone = run("status", job_id)
    assert gone.returncode == 1
    assert "no such job" in _single_line(gone)


def test_download_fetches_a_finished_job(run, logged_in, video, tmp_path):
    job_id = run("convert", str(video), "--format", "flac", "--no-wait").stdout.strip()
    wait_until(
        lambda: "done" in run("status", job_id).stdout,
        timeout=120,
        what=f"job {job_id} to be done",
        interval=0.5,
    )
    result = run("download", job_id, "-o", str(tmp_path / "again.flac"))
    assert result.returncode == 0, result.stderr
    assert probe(tmp_path / "again.flac")["streams"][0]["codec_name"] == "flac"


def test_a_text_file_is_rejected_with_exit_code_1(run, logged_in, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("this is not a video\n" * 100)
    result = run("convert", str(notes))
    assert result.returncode == 1
    assert "not a video" in _single_line(result)


def test_a_video_without_audio_sent_whole_fails_with_exit_code_1(run, logged_in, tmp_path):
    silent = make_video(tmp_path / "silent.mp4", seconds=2, size="160x120", audio=False)
    result = run("convert", str(silent), "--send-video")
    assert result.returncode == 1
    assert "conversion failed: the video has no audio" in _single_line(result)


def test_wrong_password_exits_3(run, logged_in):
    result = run("login", "-u", logged_in, password="not-the-password")
    assert result.returncode == 3
    assert "wrong username or password" in _single_line(result)


def test_convert_without_login_exits_3(run, video):
    result = run("convert", str(video))
    assert result.returncode == 3
    assert "login" in _single_line(result)


def test_missing_file_exits_2(run, logged_in, tmp_path):
    result = run("convert", str(tmp_path / "missing.mp4"))
    assert result.returncode == 2
    assert "does not exist" in _single_line(result)


def test_a_bitrate_the_server_refuses_exits_2(run, logged_in, video):
    result = run("convert", str(video), "--bitrate", "999k")
    assert result.returncode == 2
    assert "bitrate" in _single_line(result)


def test_unreachable_server_exits_4(run, logged_in, video):
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        closed_port = probe_socket.getsockname()[1]  # bound but never listening
        result = run("--upload-url", f"http://127.0.0.1:{closed_port}", "convert", str(video))
    assert result.returncode == 4
    assert "cannot reach the server" in _single_line(result)


# ---- sending only the sound (issue 21) ------------------------------------------------------
@pytest.fixture(scope="module")
def mongo(stack):
    client = MongoClient(stack.mongo_url, serverSelectionTimeoutMS=5000)
    yield client[stack.mongo_db]
    client.close()


def finished_job(run: Run, job_id: str) -> dict:
    def done() -> dict | None:
        job = json.loads(run("status", job_id, "--json").stdout)
        return job if job["status"] in {"done", "failed"} else None

    return wait_until(done, timeout=120, what=f"job {job_id} to finish", interval=0.5)


def test_with_ffmpeg_only_the_sound_is_sent(run, logged_in, video):
    result = run("convert", str(video), "--no-wait")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    job = finished_job(run, result.stdout.strip())
    assert job["status"] == "done", job
    assert job["received"] == "audio_only"
    assert job["video_size"] < video.stat().st_size / 5
    assert job["filename"] == "talk.mp4"


def test_the_sound_sent_alone_keeps_the_video_name_and_its_cover_frame(
    run, logged_in, video, tmp_path
):
    result = run("convert", str(video), "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = Path(result.stdout.strip())
    assert written.name == "talk.mp3"
    facts = probe(written)
    assert facts["format"]["tags"]["title"] == "talk"
    picture = next(s for s in facts["streams"] if s["codec_type"] == "video")
    assert picture["disposition"]["attached_pic"] == 1
    assert (picture["width"], picture["height"]) == (320, 240)


def test_m4a_from_the_sound_alone_is_the_video_audio_unchanged(run, logged_in, video, tmp_path):
    result = run("convert", str(video), "--format", "m4a", "--cover", "none", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert audio_packets_md5(Path(result.stdout.strip())) == audio_packets_md5(video)


def test_send_video_uploads_the_whole_video(run, logged_in, video):
    result = run("convert", str(video), "--send-video", "--no-wait")
    assert result.returncode == 0, result.stderr
    job = finished_job(run, result.stdout.strip())
    assert job["received"] == "video"
    assert job["video_size"] == video.stat().st_size


def test_without_ffmpeg_on_path_the_whole_video_is_sent_and_one_line_says_why(
    run, logged_in, video, tmp_path
):
    bin_dir = tmp_path / "bin-without-ffmpeg"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    result = run("convert", str(video), "--no-wait", path=str(bin_dir))
    assert result.returncode == 0, result.stderr
    assert "uploading the whole video: ffmpeg is not on PATH" in _single_line(result)
    job = finished_job(run, result.stdout.strip())
    assert job["status"] == "done", job
    assert job["received"] == "video"


def test_a_video_without_an_audio_track_exits_1_and_nothing_is_uploaded(
    run, logged_in, mongo, tmp_path
):
    silent = make_video(tmp_path / "silent.mp4", seconds=2, size="160x120", audio=False)
    result = run("convert", str(silent))
    assert result.returncode == 1
    assert "silent.mp4 has no audio track" in _single_line(result)
    assert mongo["jobs"].count_documents({"owner": logged_in}) == 0
    assert mongo["videos.files"].count_documents({"metadata.owner": logged_in}) == 0
