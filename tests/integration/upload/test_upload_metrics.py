"""What uploads add to upload's metrics: outcomes, and the bytes of the accepted ones."""

from __future__ import annotations

from tests.support.metrics import sample
from tests.support.uploads import upload
from video2audio.infra import storage
from video2audio.jobs import repository

UPLOADS = "video2audio_uploads_total"


def test_an_accepted_upload_is_counted_with_its_stored_bytes(upload_client, alice, sample_mp4, db):
    before = sample(UPLOADS, {"outcome": "accepted"}), sample("video2audio_upload_bytes_total")

    response = upload(upload_client, alice, sample_mp4)

    assert response.status_code == 202
    job = repository.get_job(db, response.get_json()["job_id"], owner=alice.name)
    stored = storage.find_file(db, storage.VIDEOS, job["video_fid"])
    after = sample(UPLOADS, {"outcome": "accepted"}), sample("video2audio_upload_bytes_total")
    assert (after[0] - before[0], after[1] - before[1]) == (1, stored["length"])


def test_a_refused_upload_is_counted_as_rejected(upload_client, alice):
    before = sample(UPLOADS, {"outcome": "rejected"}), sample(UPLOADS, {"outcome": "accepted"})

    response = upload(upload_client, alice, b"just some text, not a video\n" * 400)

    assert response.status_code == 415
    after = sample(UPLOADS, {"outcome": "rejected"}), sample(UPLOADS, {"outcome": "accepted"})
    assert (after[0] - before[0], after[1] - before[1]) == (1, 0)
