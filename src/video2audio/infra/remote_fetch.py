"""Fetching a video from a user's URL into GridFS: as careful as a webhook call, and bounded.

Every hop (the URL, then each redirect target) is parsed, resolved and checked by
:mod:`video2audio.infra.outbound` (http/https only, no credentials, non-public addresses refused
unless allowed) and the connection goes to the checked address. Redirects are followed by hand,
at most ``max_redirects`` times. The whole fetch has one deadline, the body a size limit, and
its first bytes must be a container this service recognises before anything is stored. Every
refusal is a :class:`PermanentError` whose message says what went wrong, for the job's error.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

from bson import ObjectId
from pymongo.database import Database

from video2audio.core.containers import SNIFF_BYTES, sniff_container
from video2audio.core.errors import PermanentError, TransientError
from video2audio.core.text import human_size
from video2audio.infra.chunked_upload import ChunkedUpload
from video2audio.infra.outbound import address_refused, pinned_connection, resolve_target

logger = logging.getLogger(__name__)

READ_SIZE = 256 * 1024
REDIRECTS = {301, 302, 303, 307, 308}
USER_AGENT = "Video2Audio-import/1"
WHAT = "the import URL"


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    timeout_seconds: float
    max_redirects: int
    allow_private: bool
    # Networks allowed even when non-public addresses are refused (an internal media server).
    allowed_networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fetched:
    size: int
    container: str
    final_url: str


def _check_addresses(addresses: Iterable[str], policy: FetchPolicy) -> None:
    if policy.allow_private:
        return
    networks = [ipaddress.ip_network(net, strict=False) for net in policy.allowed_networks]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if address_refused(address) and not any(ip in net for net in networks):
            raise PermanentError(f"{WHAT} leads to a non-public address, which is refused")


def _resolved_addresses(host: str, port: int) -> list[str]:
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (OSError, UnicodeError):
        return []


def _open(url: str, policy: FetchPolicy, deadline: float) -> tuple[http.client.HTTPResponse, str]:
    """GET ``url`` following redirects; the response to read and the URL it came from."""
    for _hop in range(policy.max_redirects + 1):
        # Resolved and checked once; the connection goes to that very address.
        target = resolve_target(url, allow_private=True, what=WHAT)
        _check_addresses(_resolved_addresses(target.host, target.port), policy)
        _check_addresses([target.address], policy)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PermanentError(f"the download took longer than {policy.timeout_seconds:g} s")
        connection = pinned_connection(target, timeout=remaining)
        try:
            connection.request("GET", target.path, headers={"User-Agent": USER_AGENT})
            response = connection.getresponse()
        except TimeoutError:
            connection.close()
            raise PermanentError(
                f"the download took longer than {policy.timeout_seconds:g} s"
            ) from None
        except ssl.SSLError as exc:
            connection.close()
            raise PermanentError(f"{WHAT}'s TLS connection failed: {exc.reason}") from None
        except OSError as exc:
            connection.close()
            raise PermanentError(f"{WHAT} is unreachable: {exc.strerror or exc}") from None
        if response.status in REDIRECTS:
            location = response.getheader("Location")
            connection.close()
            if not location:
                raise PermanentError(f"{WHAT} answered a redirect without a Location")
            url = urljoin(url, location)
            continue
        if response.status != 200:
            connection.close()
            raise PermanentError(f"{WHAT} answered HTTP {response.status}, not the file")
        return response, url
    raise PermanentError(f"{WHAT} redirected more than {policy.max_redirects} times")


def fetch_into_gridfs(
    url: str,
    *,
    db: Database,
    bucket: str,
    file_id: ObjectId,
    filename: str,
    metadata: dict[str, object],
    policy: FetchPolicy,
) -> Fetched:
    """Stream the file at ``url`` into GridFS as ``file_id``; nothing stays stored on failure."""
    deadline = time.monotonic() + policy.timeout_seconds
    response, final_url = _open(url, policy, deadline)
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        response.close()
        raise PermanentError(f"the file is larger than the limit of {human_size(policy.max_bytes)}")
    writer: ChunkedUpload | None = None
    head = bytearray()
    size = 0
    container = ""
    try:
        while True:
            if time.monotonic() > deadline:
                raise PermanentError(f"the download took longer than {policy.timeout_seconds:g} s")
            data = response.read1(READ_SIZE)
            if not data:
                break
            size += len(data)
            if size > policy.max_bytes:
                limit = human_size(policy.max_bytes)
                raise PermanentError(f"the file is larger than the limit of {limit}")
            if writer is not None:
                writer.write(data)
                continue
            head.extend(data)
            if len(head) >= SNIFF_BYTES:
                container, writer = _open_writer(head, db, bucket, file_id, filename, metadata)
        if size == 0:
            raise PermanentError(f"{WHAT} answered an empty file")
        if writer is None:
            container, writer = _open_writer(head, db, bucket, file_id, filename, metadata)
        writer.close()
    except TimeoutError:
        _abort(writer)
        raise PermanentError(
            f"the download took longer than {policy.timeout_seconds:g} s"
        ) from None
    except (http.client.IncompleteRead, ConnectionError) as exc:
        _abort(writer)
        raise PermanentError(f"the download broke off: {exc}") from None
    except BaseException:
        _abort(writer)
        raise
    finally:
        response.close()
    return Fetched(size=size, container=container, final_url=final_url)


def _open_writer(
    head: bytearray,
    db: Database,
    bucket: str,
    file_id: ObjectId,
    filename: str,
    metadata: dict[str, object],
) -> tuple[str, ChunkedUpload]:
    container = sniff_container(bytes(head))
    if container is None:
        raise PermanentError(f"{WHAT} is not a video or audio file this service recognises")
    writer = ChunkedUpload(
        db, bucket, filename, metadata={**metadata, "container": container}, file_id=file_id
    )
    writer.write(bytes(head))
    head.clear()
    return container, writer


def _abort(writer: ChunkedUpload | None) -> None:
    if writer is None:
        return
    try:
        writer.abort()
    except Exception as exc:
        # MongoDB may be what failed: the orphan sweep removes the chunks later.
        logger.warning("could not remove the chunks of a failed import: %r", exc)
        raise TransientError("storage failed during the import") from exc
