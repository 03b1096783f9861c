"""The official tus clients, unmodified, against the upload function served for real: an upload
killed at about 40 % is resumed by a new client process with the same upload URL, finishes, is
announced once like a one-request upload, converts, and its audio downloads."""

from __future__ import annotations

import pytest
import requests

from tests.support.tus import start_client, wait_for
from tests.support.uploads import deliver, published_events
from tests.support.waiting import wait_until
from video2audio.jobs import resumable

CHUNK = 1_500_000 + 12_345  # not a multiple of the GridFS chunk: every PATCH ends mid-chunk
CLIENTS = ["tuspy", "tus-js-client"]


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_killed_upload_resumes_from_a_new_process_and_converts(
    kind, served_tus, served_upload_user, noisy_mp4, convert_queue_copies, converter, db
):
    user, size = served_upload_user, noisy_mp4.stat().st_size
    endpoint = f"{served_tus}/files/"
    first = start_client(kind, endpoint, user.token, noisy_mp4, chunk_size=CHUNK,
                         filename="noise.mp4", format="opus")  # fmt: skip
    wait_for(first, lambda run: run.offset >= 0.4 * size, what=f"{kind} to send 40 %")
    first.kill()
    assert not first.done
    url = first.url
    job_id = url.rsplit("/", 1)[1]
    # The server notices the dropped connection, records what arrived and lets go of the lock.
    wait_until(
        lambda: db[resumable.LOCKS].find_one({"_id": job_id}) is None,
        timeout=30,
        what="the interrupted PATCH to end on the server",
    )
    job = requests.get(f"{served_tus}/jobs/{job_id}", headers=user.headers, timeout=10).json()
    assert job["status"] == "uploading"
    assert 0.4 * size <= job["bytes_received"] < size

    second = start_client(kind, endpoint, user.token, noisy_mp4, chunk_size=CHUNK, url=url)
    wait_for(second, lambda run: run.done, what=f"a new {kind} process to finish the upload")
    assert second.url == url

    channel, queue = convert_queue_copies
    events = wait_until(
        lambda: published_events(channel, queue), timeout=10, what="the job's video.uploaded event"
    )
    assert len(events) == 1 and events[0]["headers"]["ce-subject"] == job_id
    client, _notify = converter
    answer = deliver(client, events[0])
    assert answer.status_code < 300, answer.get_data(as_text=True)
    done = requests.get(f"{served_tus}/jobs/{job_id}", headers=user.headers, timeout=10).json()
    assert done["status"] == "done", done
    audio = requests.get(
        f"{served_tus}/download",
        params={"fid": done["audio_fid"]},
        headers=user.headers,
        timeout=30,
    )
    assert audio.status_code == 200
    assert audio.content[:4] == b"OggS"
