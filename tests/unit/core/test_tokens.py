import base64
import json
import time

import jwt
import pytest

from video2audio.core.errors import AuthenticationError
from video2audio.core.tokens import bearer_token, issue_token, verify_token

SECRET = "unit-test-secret-unit-test-secret"


def test_an_issued_token_verifies_with_its_claims():
    token = issue_token("alice", secret=SECRET, issuer="v2a", ttl_seconds=60)
    claims = verify_token(token, secret=SECRET, issuer="v2a")
    assert claims.username == "alice"
    assert claims.expires_at - claims.issued_at == 60


def test_an_expired_token_is_refused():
    past = int(time.time()) - 100
    token = jwt.encode({"sub": "a", "iat": past, "exp": past + 1, "iss": "v2a"}, SECRET)
    with pytest.raises(AuthenticationError, match="expired"):
        verify_token(token, secret=SECRET, issuer="v2a")


def test_a_token_from_another_issuer_is_refused():
    token = issue_token("alice", secret=SECRET, issuer="someone-else", ttl_seconds=60)
    with pytest.raises(AuthenticationError):
        verify_token(token, secret=SECRET, issuer="v2a")


def test_a_tampered_token_is_refused():
    header, payload, signature = issue_token(
        "alice", secret=SECRET, issuer="v2a", ttl_seconds=60
    ).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError):
        verify_token(f"{header}.{forged}.{signature}", secret=SECRET, issuer="v2a")


def test_an_alg_none_token_is_refused():
    now = int(time.time())
    token = jwt.encode(
        {"sub": "alice", "iat": now, "exp": now + 60, "iss": "v2a"}, None, algorithm="none"
    )
    with pytest.raises(AuthenticationError):
        verify_token(token, secret=SECRET, issuer="v2a")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer   "])
def test_a_missing_or_malformed_authorization_header_is_refused(header):
    with pytest.raises(AuthenticationError):
        bearer_token(header)
