"""Typed settings read from the environment.

Every function reads its configuration through :func:`get_settings`, which is cached per process
and built on first use, never at import time, so tests can build their own with
:meth:`Settings.from_env`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

DEVELOPMENT_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - the known placeholder


POSITIVE_SETTINGS = (
    "jwt_ttl_seconds",
    "login_max_failures",
    "login_failure_window_seconds",
    "webhook_timeout_seconds",
    "max_upload_bytes",
    "retention_seconds",
    "convert_timeout_seconds",
    "convert_lease_seconds",
)


class SettingsError(ValueError):
    """The environment holds a value the product cannot run with."""


def _to_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {raw!r}")


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    log_level: str = "INFO"

    database_url: str = "postgresql://postgres@127.0.0.1:55432/video2audio"
    mongo_url: str = "mongodb://127.0.0.1:57017/"
    mongo_db: str = "video2audio"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:55672/%2F"

    jwt_secret: str = DEVELOPMENT_SECRET
    jwt_issuer: str = "video2audio"
    jwt_ttl_seconds: int = 3600
    bcrypt_rounds: int = 12
    login_max_failures: int = 10
    login_failure_window_seconds: int = 900

    link_secret: str = DEVELOPMENT_SECRET
    webhook_secret: str = DEVELOPMENT_SECRET
    webhook_allow_private: bool = True
    webhook_timeout_seconds: float = 5.0

    max_upload_bytes: int = 2 * 1024**3

    rabbitmq_exchange: str = "video2audio"
    rabbitmq_dead_letter_exchange: str = "video2audio.dlx"
    convert_queue: str = "video2audio.convert"
    notify_queue: str = "video2audio.notify"

    retention_seconds: int = 3600
    convert_timeout_seconds: int = 540
    convert_lease_seconds: int = 15

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: str = "none"
    smtp_sender: str = "Video2Audio <noreply@video2audio.local>"

    public_upload_url: str = "http://127.0.0.1:8082"
    public_auth_url: str = "http://127.0.0.1:8081"
    cors_allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8082", "http://localhost:8082")

    @property
    def is_development(self) -> bool:
        return self.app_env == "development"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``), upper-cased field names."""
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = source.get(field.name.upper())
            if raw is None:
                continue
            try:
                values[field.name] = _convert(field.type, raw)
            except ValueError as exc:
                raise SettingsError(f"{field.name.upper()}: {exc}") from None
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that would be unsafe or cannot work."""
        if self.app_env not in {"development", "production"}:
            raise SettingsError("APP_ENV must be 'development' or 'production'")
        if not self.is_development:
            for name in ("jwt_secret", "link_secret", "webhook_secret"):
                value = getattr(self, name)
                if value == DEVELOPMENT_SECRET or len(value) < 32:
                    raise SettingsError(
                        f"{name.upper()} is the built-in development secret or shorter than 32 "
                        "characters; set a real secret to run with APP_ENV=production"
                    )
        if self.smtp_security not in {"none", "starttls", "tls"}:
            raise SettingsError("SMTP_SECURITY must be one of none, starttls, tls")
        if not 4 <= self.bcrypt_rounds <= 31:
            raise SettingsError("BCRYPT_ROUNDS must be between 4 and 31")
        # Zero or less would not fail loudly: a lease of 0 lets every redelivery take a running
        # conversion over, a time limit of 0 kills every ffmpeg, a TTL of 0 issues dead tokens.
        for name in POSITIVE_SETTINGS:
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name.upper()} must be positive")
        if not 0 < self.smtp_port < 65536:
            raise SettingsError("SMTP_PORT must be a port number (1-65535)")


def _convert(annotation: object, raw: str) -> object:
    kind = str(annotation)
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return _to_bool(raw)
    if kind.startswith("tuple"):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()
