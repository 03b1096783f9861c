"""Knative's OIDC sender identity on the expire function, against a real JWKS endpoint.

The keys are served over HTTP as the API server's /openid/v1/jwks serves them; tokens are shaped
like the service-account tokens a PingSource sends (issuer, audience, subject, expiry).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.functions import function_app
from video2audio.infra.clients import reset_clients
from video2audio.infra.events import PING, build_event, to_http_binary

ISSUER = "https://kubernetes.default.svc.cluster.local"
AUDIENCE = "serving.knative.dev/service/video2audio/expire"
SUBJECT = "system:serviceaccount:video2audio:expire-ping-oidc-sources.knative.dev-pingsource"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class KeyServer:
    """Serves a JWKS document of the keys it holds; ``down`` makes it refuse connections."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        document = json.dumps({"keys": [{**jwk, "kid": "cluster-key", "use": "sig"}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(document)))
                self.end_headers()
                self.wfile.write(document)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/openid/v1/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def cluster_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def key_server(cluster_key) -> Iterator[KeyServer]:
    server = KeyServer(cluster_key)
    yield server
    server.close()


@pytest.fixture
def expire_client(monkeypatch, key_server):
    monkeypatch.setenv("EVENT_SENDER_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("EVENT_SENDER_ISSUER", ISSUER)
    monkeypatch.setenv("EVENT_SENDER_JWKS_URL", key_server.url)
    monkeypatch.setenv("EVENT_SENDER_SUBJECTS", SUBJECT)
    reset_clients()
    yield function_app("expire").test_client()
    monkeypatch.undo()
    reset_clients()


def token(key: rsa.RSAPrivateKey, **changes) -> str:
    claims = {"iss": ISSUER, "aud": [AUDIENCE], "sub": SUBJECT, "exp": int(time.time()) + 600}
    claims.update(changes)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "cluster-key"})


def ping(client, bearer: str | None):
    headers, body = to_http_binary(build_event(PING, {"dry_run": True}, source="/tests/ping"))
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return client.post("/", headers=headers, data=body)


def test_a_ping_with_the_sources_token_is_served(expire_client, cluster_key):
    response = ping(expire_client, token(cluster_key))
    assert response.status_code == 200
    assert response.get_json()["dry_run"] is True


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(None, id="no token"),
        pytest.param("not-a-jwt", id="garbage"),
        pytest.param("other-key", id="signed by another key"),
        pytest.param({"aud": ["serving.knative.dev/service/video2audio/upload"]}, id="audience"),
        pytest.param({"iss": "https://evil.example"}, id="issuer"),
        pytest.param({"exp": int(time.time()) - 60}, id="expired"),
        pytest.param({"sub": "system:serviceaccount:video2audio:default"}, id="subject"),
    ],
)
def test_a_ping_without_a_valid_token_is_refused_and_does_nothing(
    expire_client, cluster_key, forged
):
    if forged == "other-key":
        bearer = token(new_key())
    elif isinstance(forged, dict):
        bearer = token(cluster_key, **forged)
    else:
        bearer = forged
    response = ping(expire_client, bearer)
    assert response.status_code == 401
    assert "error" in response.get_json()


def test_keys_that_cannot_be_fetched_ask_for_a_retry(expire_client, key_server, cluster_key):
    key_server.close()
    assert ping(expire_client, token(cluster_key)).status_code == 503
