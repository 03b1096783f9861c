"""The web page's sound extraction (functions/upload/static/extract.js), run under Node on
videos made by ffmpeg: what it writes is an audio-only MP4 that decodes to exactly the samples of
the video's sound, that the upload function accepts as an MP4, and what it refuses it says why.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.media import make_video, probe, remux
from video2audio.core.containers import SNIFF_BYTES, sniff_container

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "tests" / "support" / "page_scripts" / "extract_sound.mjs"
MP4BOX = ROOT / "functions" / "upload" / "static" / "vendor" / "mp4box" / "mp4box.all.mjs"


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    if shutil.which("node") is None or not MP4BOX.is_file():
        pytest.fail("node and the page's copy of mp4box.js are needed: run scripts/install.sh")
    return tmp_path_factory.mktemp("page-extract")


@pytest.fixture(scope="module")
def index_at_end(media) -> Path:
    return make_video(media / "end.mp4", seconds=3, size="160x120")


@pytest.fixture(scope="module")
def index_first(media, index_at_end) -> Path:
    return remux(index_at_end, media / "first.mp4", "-movflags", "+faststart")


@pytest.fixture(scope="module")
def quicktime(media, index_at_end) -> Path:
    """A MOV: QuickTime keeps the AAC's configuration inside a `wave` box."""
    return remux(index_at_end, media / "clip.mov")


def extract(source: Path, target: Path) -> tuple[int, dict]:
    completed = subprocess.run(
        ["node", "--no-warnings", str(SCRIPT), str(source), str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return completed.returncode, json.loads(completed.stdout.strip().splitlines()[-1])


def decoded_sound(path: Path) -> bytes:
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-"]
    return subprocess.run(command, check=True, capture_output=True, timeout=120).stdout


@pytest.mark.parametrize("video", ["index_at_end", "index_first", "quicktime"])
def test_the_sound_decodes_to_the_same_samples_as_the_videos(video, request, tmp_path):
    source = request.getfixturevalue(video)
    code, result = extract(source, tmp_path / "sound.m4a")
    assert code == 0, result
    assert result["hasVideo"] is True
    # Stream copy, and the encoder's priming (the edit list) kept: not one sample more or less.
    assert decoded_sound(tmp_path / "sound.m4a") == decoded_sound(source)


def test_the_result_holds_only_the_sound(index_at_end, tmp_path):
    extract(index_at_end, tmp_path / "sound.m4a")
    streams = probe(tmp_path / "sound.m4a")["streams"]
    assert [(s["codec_type"], s["codec_name"]) for s in streams] == [("audio", "aac")]


def test_the_upload_function_recognises_the_result_as_an_mp4(index_at_end, tmp_path):
    code, result = extract(index_at_end, tmp_path / "sound.m4a")
    head = (tmp_path / "sound.m4a").read_bytes()[:SNIFF_BYTES]
    assert code == 0, result
    assert sniff_container(head) == "mp4"


def test_the_result_is_a_fraction_of_the_video(index_at_end, tmp_path):
    code, result = extract(index_at_end, tmp_path / "sound.m4a")
    assert code == 0, result
    assert result["size"] == (tmp_path / "sound.m4a").stat().st_size
    assert result["size"] < index_at_end.stat().st_size / 4


def test_a_video_without_sound_is_reported_as_having_none(media, tmp_path):
    silent = make_video(media / "silent.mp4", seconds=2, size="160x120", audio=False)
    code, result = extract(silent, tmp_path / "sound.m4a")
    assert code == 1
    assert result == {"error": "this video has no sound track", "noSound": True}


def test_quicktime_pcm_sound_is_left_in_the_video_with_the_reason(index_at_end, tmp_path):
    pcm = remux(index_at_end, tmp_path / "pcm.mov", "-c:a", "pcm_s16le")
    code, result = extract(pcm, tmp_path / "sound.m4a")
    assert code == 1
    assert result == {"error": "its sound (sowt) cannot be taken out here", "noSound": False}


def test_a_fragmented_mp4_is_left_whole_with_the_reason(index_at_end, tmp_path):
    fragmented = remux(index_at_end, tmp_path / "frag.mp4", "-movflags", "frag_keyframe+empty_moov")
    code, result = extract(fragmented, tmp_path / "sound.m4a")
    assert code == 1
    assert result == {
        "error": "its sound is in fragments, which the page does not take apart",
        "noSound": False,
    }


def test_a_file_that_is_not_an_mp4_is_refused_with_a_reason(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    code, result = extract(text, tmp_path / "sound.m4a")
    assert code == 1
    assert result == {"error": "no MP4 index (moov) was found", "noSound": False}
