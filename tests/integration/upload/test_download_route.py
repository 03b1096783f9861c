"""GET /download: streamed audio, ranges, validators, safe names, signed links."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.support.uploads import upload
from video2audio.core.settings import get_settings
from video2audio.infra import storage
from video2audio.jobs import repository
from video2audio.jobs.links import signed_download_url


def download(client, user, fid: str, headers: dict[str, str] | None = None):
    return client.get(f"/download?fid={fid}", headers={**user.headers, **(headers or {})})


def test_download_streams_the_audio_with_its_headers(upload_client, alice, make_done_job):
    done = make_done_job(alice, filename="talk.mp4")
    response = download(upload_client, alice, done.audio_fid)
    assert response.status_code == 200
    assert response.data == done.audio
    assert response.mimetype == "audio/mpeg"
    assert response.headers["Content-Length"] == str(len(done.audio))
    assert response.headers["Content-Disposition"] == 'attachment; filename="talk.mp3"'
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["ETag"].startswith('"')


def test_the_content_type_and_extension_follow_the_format(upload_client, alice, make_done_job):
    response = download(upload_client, alice, make_done_job(alice, audio_format="opus").audio_fid)
    assert response.mimetype == "audio/ogg"
    assert response.headers["Content-Disposition"].endswith('filename="talk.ogg"')


def test_a_range_request_answers_206_with_exactly_those_bytes(upload_client, alice, make_done_job):
    # Across a GridFS chunk boundary (1 MiB), so the slicing of two chunks is exercised.
    done = make_done_job(alice, size=1_500_000)
    start, end = 1_048_000, 1_049_999
    response = download(upload_client, alice, done.audio_fid, {"Range": f"bytes={start}-{end}"})
    assert response.status_code == 206
    assert response.data == done.audio[start : end + 1]
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(done.audio)}"
    assert response.headers["Content-Length"] == str(end - start + 1)


def test_a_suffix_range_answers_the_last_bytes(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    response = download(upload_client, alice, done.audio_fid, {"Range": "bytes=-100"})
    assert response.status_code == 206
    assert response.data == done.audio[-100:]


def test_a_range_beyond_the_end_is_a_416(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    response = download(upload_client, alice, done.audio_fid, {"Range": "bytes=999999999-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(done.audio)}"


def test_a_stale_if_range_gets_the_whole_file(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    headers = {"Range": "bytes=0-9", "If-Range": '"something-else"'}
    response = download(upload_client, alice, done.audio_fid, headers)
    assert response.status_code == 200
    assert response.data == done.audio


def test_a_matching_etag_is_a_304(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    etag = download(upload_client, alice, done.audio_fid).headers["ETag"]
    response = download(upload_client, alice, done.audio_fid, {"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""


def test_an_unsafe_original_name_never_reaches_the_header(upload_client, alice, make_done_job):
    done = make_done_job(alice, filename='../"évil"\r\nSet-Cookie: x=1;.mp4')
    disposition = download(upload_client, alice, done.audio_fid).headers["Content-Disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    ascii_part = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert "/" not in ascii_part and ";" not in ascii_part
    assert ascii_part.endswith(".mp3")
    assert "filename*=UTF-8''" in disposition
    assert "%C3%A9vil" in disposition


def test_a_job_that_is_not_done_has_no_download_yet(upload_client, alice, sample_mp4, db):
    job_id = upload(upload_client, alice, sample_mp4).get_json()["job_id"]
    response = upload_client.post(f"/jobs/{job_id}/link", headers=alice.headers)
    assert response.status_code == 409
    assert "queued" in response.get_json()["error"]


def test_audio_deleted_before_the_job_was_marked_is_a_410(upload_client, alice, make_done_job, db):
    done = make_done_job(alice)
    storage.delete_file(db, storage.AUDIO, done.job["audio_fid"])
    response = download(upload_client, alice, done.audio_fid)
    assert response.status_code == 410


def signed_link(client, user, job_id: str) -> str:
    response = client.post(f"/jobs/{job_id}/link", headers=user.headers)
    assert response.status_code == 200
    return response.get_json()["url"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_signed_link_downloads_without_a_token(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    url = signed_link(upload_client, alice, done.job_id)
    assert url.startswith(get_settings().public_upload_url)
    response = upload_client.get(path_of(url))
    assert response.status_code == 200
    assert response.data == done.audio


def test_a_signed_link_expires_when_the_audio_does(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    response = upload_client.post(f"/jobs/{done.job_id}/link", headers=alice.headers)
    expected = done.job["finished_at"].timestamp() + get_settings().retention_seconds
    assert response.get_json()["expires_at"] == int(expected)


@pytest.mark.parametrize("field", ["sig", "exp", "fid"])
def test_an_altered_signed_link_is_a_403(upload_client, alice, make_done_job, field):
    done = make_done_job(alice)
    other = make_done_job(alice)
    query = {key: values[0] for key, values in parse_qs(urlsplit(
        signed_link(upload_client, alice, done.job_id)
    ).query).items()}  # fmt: skip
    altered = {"sig": "0" * 64, "exp": str(int(query["exp"]) + 60), "fid": other.audio_fid}
    query[field] = altered[field]
    response = upload_client.get(f"/download?{urlencode(query)}")
    assert response.status_code == 403
    assert "invalid" in response.get_json()["error"]


def test_an_expired_signed_link_is_a_403_that_says_so(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    past = int(time.time()) - 10
    url = signed_download_url(
        "http://x", done.audio_fid, alice.name, past, secret=get_settings().link_secret
    )
    response = upload_client.get(path_of(url))
    assert response.status_code == 403
    assert "expired" in response.get_json()["error"]


def test_a_signed_link_for_an_expired_job_is_a_410(upload_client, alice, make_done_job, db):
    done = make_done_job(alice)
    url = signed_link(upload_client, alice, done.job_id)
    repository.update_job(db, done.job_id, {"status": "expired"})
    assert upload_client.get(path_of(url)).status_code == 410


def test_a_download_without_token_or_signature_is_a_401(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    response = upload_client.get(f"/download?fid={done.audio_fid}")
    assert response.status_code == 401


def test_head_answers_the_headers_without_the_body(upload_client, alice, make_done_job):
    done = make_done_job(alice)
    response = upload_client.head(f"/download?fid={done.audio_fid}", headers=alice.headers)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(done.audio))
    assert response.data == b""
