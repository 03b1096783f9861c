"""Convert streams the video from GridFS into ffmpeg: no temporary file, nothing left serving."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading

import pytest

from tests.support.convert import post_event, uploaded_event
from tests.support.convert_media import CLIP_SECONDS, SOURCES, audio_facts, audio_packets_md5
from tests.support.media import make_video, probe
from tests.support.network import listening_ports
from tests.support.publishing_media import attached_picture, decoded_seconds
from video2audio.convert import loopback
from video2audio.infra.storage import AUDIO, VIDEOS, delete_file, find_file, iter_file_bytes
from video2audio.jobs.repository import load_job


@pytest.fixture
def no_temp_dir(tmp_path, monkeypatch):
    """A temporary directory that does not exist: any temporary file fails the conversion."""
    missing = tmp_path / "no-such-dir"
    monkeypatch.setattr(tempfile, "tempdir", os.fspath(missing))
    monkeypatch.setenv("TMPDIR", os.fspath(missing))
    return missing


def loopback_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("loopback")]


def stored_audio(db, job_id, target):
    job = load_job(db, job_id)
    assert job["status"] == "done", job.get("error")
    document = find_file(db, AUDIO, job["audio_fid"])
    target.write_bytes(b"".join(iter_file_bytes(db, AUDIO, document)))
    return target


@pytest.mark.parametrize("audio_format", ["mp3", "flac"])
@pytest.mark.parametrize("source_name", list(SOURCES))
def test_each_container_converts_without_any_temporary_file(
    convert_client, store_job, db, media, tmp_path, no_temp_dir, source_name, audio_format
):
    job = store_job(media[source_name], audio_format)

    response = post_event(convert_client, uploaded_event(job))

    assert response.status_code == 200, response.get_data(as_text=True)
    output = stored_audio(db, job["_id"], tmp_path / f"out.{audio_format}")
    _, duration = audio_facts(output)
    assert duration == pytest.approx(audio_facts(media[source_name])[1], abs=0.1)
    assert not no_temp_dir.exists()


def test_a_trimmed_m4a_with_a_cover_converts_without_any_temporary_file(
    convert_client, store_published_job, db, media, tmp_path, no_temp_dir
):
    job = store_published_job(media["mov"], "m4a", {"start": "0.5", "end": "00:02.000"})

    response = post_event(convert_client, uploaded_event(job))

    assert response.status_code == 200, response.get_data(as_text=True)
    output = stored_audio(db, job["_id"], tmp_path / "out.m4a")
    assert decoded_seconds(output) == pytest.approx(1.5, abs=1024 / 48000)
    assert attached_picture(output) is not None
    assert not no_temp_dir.exists()


def test_an_m4a_copied_from_aac_with_a_cover_converts_without_any_temporary_file(
    convert_client, store_published_job, db, media, tmp_path, no_temp_dir
):
    job = store_published_job(media["mp4"], "m4a", {"title": "T"})

    response = post_event(convert_client, uploaded_event(job))

    assert response.status_code == 200, response.get_data(as_text=True)
    output = stored_audio(db, job["_id"], tmp_path / "out.m4a")
    assert audio_packets_md5(output) == audio_packets_md5(media["mp4"])
    assert attached_picture(output) is not None
    assert not no_temp_dir.exists()


def test_an_encoded_flac_streamed_into_gridfs_has_its_sample_count_in_the_header(
    convert_client, store_job, db, media, tmp_path
):
    job = store_job(media["mp4"], "flac")  # AAC in, so FLAC is encoded

    assert post_event(convert_client, uploaded_event(job)).status_code == 200

    output = stored_audio(db, job["_id"], tmp_path / "out.flac")
    stream = next(s for s in probe(output)["streams"] if s["codec_type"] == "audio")
    # The header's count, which ffprobe reads; without it the duration would be unknown.
    assert int(stream["duration_ts"]) == pytest.approx(CLIP_SECONDS * 48000, abs=2048)


def test_a_trimmed_mp3_with_a_cover_streams_without_any_temporary_file_to_the_exact_length(
    convert_client, store_published_job, db, media, tmp_path, no_temp_dir
):
    job = store_published_job(media["mov"], "mp3", {"start": "0.5", "end": "00:02.000"})

    response = post_event(convert_client, uploaded_event(job))

    assert response.status_code == 200, response.get_data(as_text=True)
    output = stored_audio(db, job["_id"], tmp_path / "out.mp3")
    assert attached_picture(output) is not None  # the ID3 size was patched as well
    # The Info frame's delay and padding: the samples of end - start, to the sample.
    assert decoded_seconds(output) == pytest.approx(1.5, abs=1 / 48000)
    assert not no_temp_dir.exists()


def test_an_encoded_mp3_decodes_without_errors_to_the_length_of_its_source(
    convert_client, store_job, db, media, tmp_path
):
    job = store_job(media["mp4"], "mp3")  # AAC in, so the MP3 is encoded

    assert post_event(convert_client, uploaded_event(job)).status_code == 200

    output = stored_audio(db, job["_id"], tmp_path / "out.mp3")
    decoding = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(output), "-f", "null", "-"],
        capture_output=True,
        timeout=60,
    )
    assert (decoding.returncode, decoding.stderr) == (0, b"")
    assert decoded_seconds(output) == pytest.approx(decoded_seconds(media["mp4"]), abs=1 / 48000)


def test_the_loopback_server_is_gone_after_a_conversion_succeeds(
    convert_client, store_job, db, media
):
    before = listening_ports(os.getpid())
    job = store_job(media["mp4"])
    assert post_event(convert_client, uploaded_event(job)).status_code == 200
    assert load_job(db, job["_id"])["status"] == "done"
    assert listening_ports(os.getpid()) == before
    assert loopback_threads() == []


def test_the_loopback_server_is_gone_after_a_conversion_fails(convert_client, store_job, db, media):
    before = listening_ports(os.getpid())
    job = store_job(media["truncated"])
    assert post_event(convert_client, uploaded_event(job)).status_code == 200
    assert load_job(db, job["_id"])["status"] == "failed"
    assert listening_ports(os.getpid()) == before
    assert loopback_threads() == []


@pytest.fixture(scope="module")
def big_video(tmp_path_factory):
    """Several GridFS chunks of index-last MP4, so a chunk in the middle is only read by ffmpeg."""
    return make_video(tmp_path_factory.mktemp("big") / "big.mp4", seconds=12, size="640x360")


def test_a_gridfs_read_failure_mid_conversion_is_retried_not_a_bad_media_failure(
    convert_client, store_job, db, big_video
):
    job = store_job(big_video)
    chunks = db[f"{VIDEOS}.chunks"]
    count = chunks.count_documents({"files_id": job["video_fid"]})
    assert count >= 4
    # The middle of the media data: the probe reads the head and the index at the end.
    chunks.delete_one({"files_id": job["video_fid"], "n": count // 2})

    response = post_event(convert_client, uploaded_event(job))

    stored = load_job(db, job["_id"])
    assert response.status_code == 503
    assert stored["status"] == "queued"
    assert stored["audio_fid"] is None
    assert db[f"{AUDIO}.files"].count_documents({"metadata.job_id": job["_id"]}) == 0
    assert loopback_threads() == []


def test_the_loopback_server_answers_only_its_own_path_with_byte_ranges(store_job, db, media):
    import requests

    job = store_job(media["mp4"])
    document = find_file(db, VIDEOS, job["video_fid"])
    content = media["mp4"].read_bytes()
    with loopback.serving(db, VIDEOS, document) as served:
        token_url = served.url
        base = token_url.rsplit("/", 1)[0]
        ranged = requests.get(token_url, headers={"Range": "bytes=100-299"}, timeout=10)
        tail = requests.get(token_url, headers={"Range": "bytes=-50"}, timeout=10)
        whole = requests.get(token_url, timeout=10)
        other = requests.get(base + "/videos", timeout=10)
        guessed = requests.get(base + "/", timeout=10)
        beyond = requests.get(token_url, headers={"Range": f"bytes={len(content)}-"}, timeout=10)
        posted = requests.post(token_url, data=b"x", timeout=10)

    assert ranged.status_code == 206 and ranged.content == content[100:300]
    assert ranged.headers["Content-Range"] == f"bytes 100-299/{len(content)}"
    assert tail.content == content[-50:]
    assert whole.status_code == 200 and whole.content == content
    assert (other.status_code, guessed.status_code) == (404, 404)
    assert beyond.status_code == 416
    assert posted.status_code == 501
    assert len(token_url.rsplit("/", 1)[1]) >= 32
    with pytest.raises(requests.ConnectionError):
        requests.get(token_url, timeout=2)
    assert loopback_threads() == []


def test_ranges_from_any_chunk_and_repeated_ranges_come_back_byte_exact(db, unique_name):
    import requests

    from video2audio.infra.chunked_upload import ChunkedUpload

    content = os.urandom(20 * 1024 + 321)
    upload = ChunkedUpload(db, VIDEOS, unique_name, metadata={}, chunk_size=1024)
    upload.write(content)
    upload.close()
    document = find_file(db, VIDEOS, upload.file_id)
    # Starts in the first chunks (one unsorted query) and far in (a lookup first), twice each:
    # the second time the first chunks come from the conversion's cache.
    ranges = [(0, 3000), (2100, 9000), (15 * 1024 + 7, len(content) - 1)] * 2
    try:
        with loopback.serving(db, VIDEOS, document) as served:
            answers = [
                requests.get(served.url, headers={"Range": f"bytes={a}-{b}"}, timeout=10).content
                for a, b in ranges
            ]
    finally:
        delete_file(db, VIDEOS, upload.file_id)

    assert answers == [content[a : b + 1] for a, b in ranges]


def test_extra_inputs_are_served_from_memory_under_their_own_path(store_job, db, media):
    import requests

    job = store_job(media["mp4"])
    document = find_file(db, VIDEOS, job["video_fid"])
    with loopback.serving(db, VIDEOS, document) as served:
        picture = served.serve_extra(b"\xff\xd8picture", "jpeg_pipe")
        answer = requests.get(picture.url, headers={"Range": "bytes=2-"}, timeout=10)

    assert answer.status_code == 206 and answer.content == b"picture"
    assert picture.url != served.url and picture.options()[:4] == [
        "-protocol_whitelist",
        "http,tcp",
        "-format_whitelist",
        "jpeg_pipe",
    ]
