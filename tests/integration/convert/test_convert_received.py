"""What the job records about the upload it converted: only sound, or a video (issue 21).

Judged from the stored file itself, so a client that extracted the audio track first, and one
that sent the whole video, are told apart without trusting either's word."""

from __future__ import annotations

import pytest

from tests.support.convert import post_event, uploaded_event
from tests.support.convert_media import audio_packets_md5, ffmpeg
from video2audio.infra.storage import AUDIO, find_file, iter_file_bytes
from video2audio.jobs.repository import load_job


@pytest.fixture(scope="module")
def sound_only(media, tmp_path_factory):
    """The AAC track of the MP4 clip alone, copied out as a client would before uploading."""
    path = tmp_path_factory.mktemp("sound-only") / "clip.m4a"
    ffmpeg("-i", str(media["mp4"]), "-vn", "-c:a", "copy", str(path))
    return path


def converted(convert_client, db, job):
    assert post_event(convert_client, uploaded_event(job)).status_code == 200
    return load_job(db, job["_id"])


def test_a_job_records_null_until_its_upload_is_probed(store_job, media):
    assert store_job(media["mp4"], "mp3").get("received") is None


def test_an_upload_of_only_sound_is_recorded_as_audio_only(
    convert_client, store_job, db, sound_only
):
    job = converted(convert_client, db, store_job(sound_only, "mp3"))
    assert job["status"] == "done", job.get("error")
    assert job["received"] == "audio_only"


def test_an_upload_of_a_video_is_recorded_as_video(convert_client, store_job, db, media):
    job = converted(convert_client, db, store_job(media["webm"], "mp3"))
    assert job["received"] == "video"


def test_a_video_without_sound_that_failed_is_still_recorded_as_video(
    convert_client, store_job, db, media
):
    job = converted(convert_client, db, store_job(media["no-audio"], "mp3"))
    assert job["status"] == "failed"
    assert job["received"] == "video"


def test_only_sound_in_aac_asked_as_m4a_is_copied_without_re_encoding(
    convert_client, store_published_job, db, sound_only, media, tmp_path
):
    # With the options an upload records by default (cover auto), as a client's upload has.
    job = converted(convert_client, db, store_published_job(sound_only, "m4a", {}))
    assert job["status"] == "done", job.get("error")
    output = tmp_path / "out.m4a"
    with output.open("wb") as out:
        for block in iter_file_bytes(db, AUDIO, find_file(db, AUDIO, job["audio_fid"])):
            out.write(block)
    assert audio_packets_md5(output) == audio_packets_md5(media["mp4"])
