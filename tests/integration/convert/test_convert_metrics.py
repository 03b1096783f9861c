"""What a conversion adds to convert's metrics: outcomes by format, time, speed and bytes."""

from __future__ import annotations

from tests.support.convert import post_event, uploaded_event
from tests.support.metrics import sample
from video2audio.infra.clients import mongo_database
from video2audio.infra.storage import AUDIO, VIDEOS, find_file
from video2audio.jobs.repository import load_job

CONVERSIONS = "video2audio_conversions_total"


def test_a_conversion_counts_done_its_time_its_speed_and_its_bytes(
    convert_client, store_job, media
):
    mp3 = {"format": "mp3"}
    done = {**mp3, "outcome": "done"}
    names = [
        (CONVERSIONS, done),
        ("video2audio_conversion_duration_seconds_count", mp3),
        ("video2audio_conversion_duration_seconds_sum", mp3),
        ("video2audio_conversion_realtime_factor_count", mp3),
        ("video2audio_conversion_read_bytes_total", mp3),
        ("video2audio_conversion_written_bytes_total", mp3),
    ]
    before = [sample(name, labels) for name, labels in names]
    job = store_job(media["mp4"], "mp3")

    assert post_event(convert_client, uploaded_event(job)).status_code == 200

    added = [sample(name, labels) - was for (name, labels), was in zip(names, before, strict=True)]
    db = mongo_database()
    stored = load_job(db, job["_id"])
    video = find_file(db, VIDEOS, job["video_fid"])
    audio = find_file(db, AUDIO, stored["audio_fid"])
    assert added[0] == 1
    assert added[1] == 1
    assert 0 < added[2] <= stored["timings"]["total_seconds"] + 0.01
    assert added[3] == 1
    assert added[4] == video["length"]
    assert added[5] == audio["length"]


def test_a_permanently_failed_conversion_is_counted_as_failed_without_a_duration(
    convert_client, store_job, media
):
    failed = {"format": "mp3", "outcome": "failed"}
    durations = ("video2audio_conversion_duration_seconds_count", {"format": "mp3"})
    before = sample(CONVERSIONS, failed), sample(*durations)
    job = store_job(media["no-audio"], "mp3")

    assert post_event(convert_client, uploaded_event(job)).status_code == 200

    assert (sample(CONVERSIONS, failed) - before[0], sample(*durations) - before[1]) == (1, 0)
