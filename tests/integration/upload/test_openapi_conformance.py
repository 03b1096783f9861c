"""Schemathesis against the running upload function: no server error, nothing undescribed."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, settings

from tests.support.openapi import CHECKS, call_described, described_api
from video2audio.web.openapi import api_description

api = described_api("video2audio.upload")


def test_the_running_function_serves_the_packaged_description(served_upload):
    served = requests.get(f"{served_upload}/openapi.json", timeout=10).json()
    assert served == api_description("video2audio.upload")


@pytest.mark.timeout(90)
@api.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_to_the_description(case, served_upload, served_upload_user):
    case.call_and_validate(
        base_url=served_upload, headers=served_upload_user.headers, checks=CHECKS
    )


def test_an_accepted_uploads_answers_keep_to_the_description(
    served_upload, served_upload_user, sample_mp4
):
    def call(method, path, **parts):
        return call_described(
            api, served_upload, method, path, auth=served_upload_user.headers, **parts
        )

    form = {"file": sample_mp4, "format": "opus", "bitrate": "96k"}
    accepted = call("POST", "/upload", body=form, media_type="multipart/form-data")
    assert accepted.status_code == 202
    job = accepted.json()
    job_path = {"job_id": job["job_id"]}
    assert call("GET", "/jobs/{job_id}", path_parameters=job_path).status_code == 200
    assert call("GET", "/status", query={"fid": job["video_fid"]}).status_code == 200
    assert call("GET", "/jobs", query={"limit": 1}).json()["jobs"][0]["job_id"] == job["job_id"]
    assert call("GET", "/quota").status_code == 200
    assert call("POST", "/jobs/{job_id}/link", path_parameters=job_path).status_code == 409
    assert call("DELETE", "/jobs/{job_id}", path_parameters=job_path).status_code == 204


def test_a_done_jobs_audio_answers_keep_to_the_description(
    served_upload, served_upload_user, make_done_job
):
    def call(method, path, auth=served_upload_user.headers, **parts):
        return call_described(api, served_upload, method, path, auth=auth, **parts)

    done = make_done_job(served_upload_user, filename="talk.mov", size=50_000)
    audio = {"fid": str(done.job["audio_fid"])}
    job = call("GET", "/jobs/{job_id}", path_parameters={"job_id": done.job_id})
    assert job.status_code == 200
    link = call("POST", "/jobs/{job_id}/link", path_parameters={"job_id": done.job_id})
    signed = dict(parse_qsl(urlsplit(link.json()["url"]).query))
    assert call("GET", "/download", auth=None, query=signed).status_code == 200
    whole = call("GET", "/download", query=audio)
    assert whole.status_code == 200
    assert call("HEAD", "/download", query=audio).status_code == 200
    ranged = call("GET", "/download", query=audio, headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206
    # schemathesis' responses keep header names in lower case, values in lists.
    tag = whole.headers["etag"][0]
    same = call("GET", "/download", query=audio, headers={"If-None-Match": tag})
    assert same.status_code == 304
    outside = call("GET", "/download", query=audio, headers={"Range": "bytes=90000-"})
    assert outside.status_code == 416
