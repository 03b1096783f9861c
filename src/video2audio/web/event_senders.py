"""Who sent a CloudEvent: Knative Eventing's OIDC sender identity, checked when configured.

With Knative's ``authentication-oidc`` feature on, a PingSource whose sink names an audience sends
``Authorization: Bearer <JWT>``: a Kubernetes service-account token for that audience, signed by
the cluster's service-account issuer. A function configured with an audience refuses any event
without a valid token: signed by a key of the issuer's JWKS, for this audience, unexpired, and
(when a list is given) from one of the allowed service accounts. eventing-rabbitmq's
RabbitmqSource sends no token at the versions pinned (knative/README.md), so only the expire
function can use this.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import jwt

from video2audio.core.errors import AuthenticationError, TransientError
from video2audio.core.settings import Settings

logger = logging.getLogger(__name__)

ALGORITHMS = ["RS256", "ES256"]
# A pod's own credentials, for reading the API server's JWKS (service accounts may by default).
POD_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
POD_CA = Path("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")


@dataclass(frozen=True)
class SenderCheck:
    audience: str
    issuer: str
    subjects: tuple[str, ...]
    keys: jwt.PyJWKClient

    def verify(self, authorization: str | None) -> str:
        """The sender's subject; :class:`AuthenticationError` unless the token is valid."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the event carries no sender token")
        try:
            key = self.keys.get_signing_key_from_jwt(token.strip())
            claims = jwt.decode(
                token.strip(),
                key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            logger.warning("sender keys unavailable: %s", exc)
            raise TransientError("the sender token cannot be checked right now") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"the sender token is not valid: {exc}") from None
        subject = str(claims["sub"])
        if self.subjects and subject not in self.subjects:
            raise AuthenticationError(f"events from {subject} are not accepted")
        return subject


def sender_check(settings: Settings) -> SenderCheck | None:
    """The check the settings ask for, or None when EVENT_SENDER_AUDIENCE is not set."""
    if not settings.event_sender_audience:
        return None
    headers, context = {}, None
    if settings.event_sender_jwks_url.startswith("https://kubernetes.default.svc"):
        if POD_TOKEN.exists():
            headers["Authorization"] = f"Bearer {POD_TOKEN.read_text().strip()}"
        if POD_CA.exists():
            context = ssl.create_default_context(cafile=str(POD_CA))
    keys = jwt.PyJWKClient(
        settings.event_sender_jwks_url,
        cache_keys=True,
        lifespan=300,
        headers=headers,
        timeout=5,
        ssl_context=context,
    )
    return SenderCheck(
        audience=settings.event_sender_audience,
        issuer=settings.event_sender_issuer,
        subjects=settings.event_sender_subjects,
        keys=keys,
    )
