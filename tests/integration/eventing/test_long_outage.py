"""MongoDB down for longer than the event source's whole retry window: the message is parked,
and the job still ends done by itself once MongoDB is back.

The real pieces: Knative's RabbitmqSource adapter (local-eventing) with a retry window of about a
second, the convert function served as `make up` serves it, RabbitMQ and FerretDB; the
redelivery sweep is called as the expire function calls it on every ping.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from pymongo.database import Database

from tests.support.convert_media import generate_long_audio
from tests.support.eventing import Queue, connect, rabbitmq_source_manifest
from tests.support.functions import serve_function
from tests.support.services import run_services
from tests.support.waiting import wait_until
from video2audio.core.settings import get_settings
from video2audio.expire.redelivery import RedeliveryPolicy, redeliver
from video2audio.infra.clients import mongo_client
from video2audio.infra.messaging import RabbitPublisher
from video2audio.infra.storage import AUDIO, VIDEOS, open_upload
from video2audio.infra.topology import Topology
from video2audio.jobs.announcements import announce_upload
from video2audio.jobs.repository import create_job, load_job


@pytest.fixture(scope="module")
def long_audio(tmp_path_factory) -> Path:
    return generate_long_audio(tmp_path_factory.mktemp("outage") / "long.m4a", 30)


def stored_job(db: Database, path: Path) -> dict:
    upload = open_upload(db, VIDEOS, path.name, metadata={"owner": "outage-tester"})
    with path.open("rb") as source:
        while block := source.read(1024 * 1024):
            upload.write(block)
    upload.close()
    return create_job(
        db,
        owner="outage-tester",
        video_fid=upload.file_id,
        filename=path.name,
        output={"format": "mp3", "bitrate": "320k"},
        webhook_url=None,
    )


def test_a_job_parked_during_a_long_outage_ends_done_once_mongodb_is_back(
    queue: Queue, start_source, long_audio, tmp_path
):
    notify_queue = f"{queue.name}.outcomes"
    topology = Topology("video2audio", "video2audio.dlx", (queue.name, notify_queue))
    publisher = RabbitPublisher(
        get_settings().rabbitmq_url, exchange="video2audio", topology=topology
    )
    # A database of the test's own: the sweep looks at every job there, and only this one counts.
    db = mongo_client()[f"v2a_outage_{uuid.uuid4().hex[:10]}"]
    env = {
        "CONVERT_QUEUE": queue.name,
        "NOTIFY_QUEUE": notify_queue,
        "CONVERT_LEASE_SECONDS": "3",
        "MONGO_DB": db.name,
    }
    try:
        with serve_function("convert", env=env, log=tmp_path / "convert.log") as convert:
            # Two retries, 0.4 s and 0.8 s apart: a whole retry window of about a second.
            start_source(
                rabbitmq_source_manifest(queue.name, retry=2, backoff_delay="PT0.2S"), convert.url
            )
            job = stored_job(db, long_audio)
            assert announce_upload(job, db=db, publisher=publisher, convert_queue=queue.name)
            wait_until(
                lambda: (load_job(db, job["_id"]) or {}).get("progress", 0) > 0,
                timeout=60,
                what="the conversion to start",
            )
            run_services("stop-mongo")
            try:
                wait_until(lambda: queue.counts()[1] == 1, timeout=60, what="the message to park")
            finally:
                run_services("start-mongo")

            # What the expire function does on its next ping (here with a short stall time).
            policy = RedeliveryPolicy(stall_seconds=2, give_up_seconds=3600)
            wait_until(
                lambda: redeliver(
                    db, publisher, convert_queue=queue.name, notify_queue=notify_queue,
                    policy=policy,
                )["stalled_reannounced"] == 1,
                timeout=60,
                what="the sweep to announce the stalled job again",
            )  # fmt: skip
            # Convert stores "done" first and marks the job notified once the outcome is
            # published, so the test waits for both rather than reading the first snapshot.
            done = wait_until(
                lambda: (
                    (job_now := load_job(db, job["_id"]))["status"] == "done"
                    and job_now["notified"] is True
                    and job_now
                ),
                timeout=120,
                what="the job to end done and its outcome to go to notify",
            )
        assert done["status"] == "done"
        assert db[f"{AUDIO}.files"].count_documents({"metadata.job_id": job["_id"]}) == 1
        assert queue.counts()[1] == 1  # the parked message is still there, and no longer needed
    finally:
        publisher.close()
        mongo_client().drop_database(db.name)
        connection = connect(get_settings().rabbitmq_url)
        connection.channel().queue_delete(notify_queue)
        connection.close()
