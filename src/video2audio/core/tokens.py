"""JWT issue and local verification, shared by every function (no network call to auth)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from video2audio.core.errors import AuthenticationError

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    username: str
    issued_at: int
    expires_at: int


def issue_token(username: str, *, secret: str, issuer: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {"sub": username, "iat": now, "exp": now + ttl_seconds, "iss": issuer}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, *, secret: str, issuer: str) -> TokenClaims:
    """Return the claims of a valid token, or raise :class:`AuthenticationError`.

    Only HS256 is accepted, so ``alg: none`` and algorithm-confusion tokens fail.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=issuer,
            options={"require": ["sub", "iat", "exp", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("token has expired") from None
    except jwt.InvalidIssuerError:
        raise AuthenticationError("token was not issued by this service") from None
    except jwt.PyJWTError:
        raise AuthenticationError("token is invalid") from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError("token is invalid")
    return TokenClaims(username=subject, issued_at=claims["iat"], expires_at=claims["exp"])


def bearer_token(authorization_header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not authorization_header:
        raise AuthenticationError("missing Authorization: Bearer token")
    scheme, _, token = authorization_header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Authorization header must be 'Bearer <token>'")
    return token.strip()
