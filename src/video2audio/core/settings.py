"""Typed settings read from the environment.

Every function reads its configuration through :func:`get_settings`, which is cached per process
and built on first use, never at import time, so tests can build their own with
:meth:`Settings.from_env`. Values are converted and checked by pydantic; a value the product
cannot run with is a :class:`SettingsError` naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from video2audio.core.once import once_per_process

DEVELOPMENT_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - the known placeholder
SECRET_SETTINGS = ("jwt_secret", "link_secret")
MIN_SECRET_CHARS = 32

Positive = Annotated[int, Field(gt=0)]
PositiveSeconds = Annotated[float, Field(gt=0)]
BcryptCost = Annotated[int, Field(ge=4, le=31)]
Port = Annotated[int, Field(ge=1, le=65535)]
ProxyHops = Annotated[int, Field(ge=0, le=10)]


class SettingsError(ValueError):
    """The environment holds a value the product cannot run with."""


class Settings(BaseModel):
    """One field per environment variable: the field name upper-cased."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app_env: Literal["development", "production"] = "development"
    log_level: str = "INFO"
    # json: one JSON object per line, for log collectors; text: a readable line, for humans.
    log_format: Literal["json", "text"] = "json"

    database_url: str = "postgresql://postgres@127.0.0.1:55432/video2audio"
    database_pool_size: Positive = 10
    database_pool_wait_seconds: PositiveSeconds = 30
    mongo_url: str = "mongodb://127.0.0.1:57017/"
    mongo_db: str = "video2audio"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:55672/%2F"

    jwt_secret: str = DEVELOPMENT_SECRET
    jwt_issuer: str = "video2audio"
    jwt_ttl_seconds: Positive = 3600
    bcrypt_rounds: BcryptCost = 12
    login_max_failures: Positive = 10
    login_max_failures_per_address: Positive = 50
    login_failure_window_seconds: Positive = 900
    email_verification_ttl_seconds: Positive = 48 * 3600
    email_verification_resend_seconds: PositiveSeconds = 60
    trusted_proxy_hops: ProxyHops = 0

    link_secret: str = DEVELOPMENT_SECRET
    webhook_allow_private: bool = True
    webhook_timeout_seconds: PositiveSeconds = 5.0

    max_upload_bytes: Positive = 2 * 1024**3
    max_active_jobs_per_user: Positive = 4
    max_stored_bytes_per_user: Positive = 10 * 1024**3
    max_uploads_per_hour: Positive = 30
    max_duration_seconds: Positive = 4 * 3600
    max_output_bytes: Positive = 2 * 1024**3
    # Resumable (tus) uploads: how long an unfinished one is kept after its last byte arrived,
    # and how long a PATCH holds its upload's lock without a byte arriving (a dead pod's lock
    # frees itself after that).
    resumable_upload_expiry_seconds: Positive = 24 * 3600
    resumable_upload_lock_seconds: Positive = 60
    # The web page sends files from this size on through tus (resumable) instead of /upload.
    resumable_upload_threshold_bytes: Positive = 64 * 1024**2
    # Imports from a URL (POST /import), fetched by convert: the whole download's time limit,
    # the redirects followed, and whether non-public addresses may be fetched (besides the
    # networks named in IMPORT_ALLOWED_NETWORKS, e.g. an internal media server).
    import_timeout_seconds: PositiveSeconds = 300
    import_max_redirects: int = Field(default=3, ge=0, le=10)
    import_allow_private: bool = True
    import_allowed_networks: tuple[str, ...] = ()
    # An uploaded cover image is held in memory until it is stored: keep it small.
    max_cover_bytes: Positive = 5 * 1024**2

    rabbitmq_exchange: str = "video2audio"
    rabbitmq_dead_letter_exchange: str = "video2audio.dlx"
    convert_queue: str = "video2audio.convert"
    notify_queue: str = "video2audio.notify"

    retention_seconds: Positive = 3600
    convert_timeout_seconds: Positive = 540
    convert_lease_seconds: Positive = 15
    job_stall_seconds: Positive = 180
    job_give_up_seconds: Positive = 3 * 3600
    probe_timeout_seconds: Positive = 60

    smtp_host: str = "127.0.0.1"
    smtp_port: Port = 1025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_sender: str = "Video2Audio <noreply@video2audio.local>"

    public_upload_url: str = "http://127.0.0.1:8082"
    public_auth_url: str = "http://127.0.0.1:8081"
    cors_allowed_origins: tuple[str, ...] = ("http://127.0.0.1:8082", "http://localhost:8082")

    http_threads: Positive = 256
    http_max_idle_connections: Positive = 1000
    http_header_timeout_seconds: PositiveSeconds = 10
    http_idle_timeout_seconds: PositiveSeconds = 30

    event_sender_audience: str = ""
    event_sender_issuer: str = "https://kubernetes.default.svc"
    event_sender_jwks_url: str = "https://kubernetes.default.svc/openid/v1/jwks"
    event_sender_subjects: tuple[str, ...] = ()

    # Bearer token /metrics requires; empty leaves /metrics open (fine on 127.0.0.1, not on a
    # public port: the Knative deployment always sets one).
    metrics_token: str = ""

    @property
    def is_development(self) -> bool:
        return self.app_env == "development"

    @field_validator(
        "cors_allowed_origins", "event_sender_subjects", "import_allowed_networks", mode="before"
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("import_allowed_networks", mode="after")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value

    @model_validator(mode="after")
    def _real_secrets_outside_development(self) -> Settings:
        if not self.is_development:
            for name in SECRET_SETTINGS:
                value = getattr(self, name)
                if value == DEVELOPMENT_SECRET or len(value) < MIN_SECRET_CHARS:
                    raise ValueError(
                        f"{name.upper()} is the built-in development secret or shorter than "
                        f"{MIN_SECRET_CHARS} characters; set a real secret to run with "
                        "APP_ENV=production"
                    )
            if self.metrics_token and len(self.metrics_token) < MIN_SECRET_CHARS:
                raise ValueError(
                    f"METRICS_TOKEN is shorter than {MIN_SECRET_CHARS} characters; set a real "
                    "token (or none, to leave /metrics open) to run with APP_ENV=production"
                )
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``); unset variables keep defaults."""
        source = os.environ if env is None else env
        values = {name: source[name.upper()] for name in cls.model_fields if name.upper() in source}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{name}: {message}" if name else message)
    return "; ".join(problems)


@once_per_process
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_env()


def environment_defaults() -> dict[str, str]:
    """Every setting's variable name and its default, written as the environment would hold it."""
    out: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        value = field.default
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, tuple):
            text = ",".join(value)
        else:
            text = str(value)
        out[name.upper()] = text
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m video2audio.core.settings defaults|check``, for tools outside Python.

    ``defaults`` prints every variable and its default as JSON. ``check`` reads a JSON object of
    variables on standard input and says whether a function would start with them (exit 0) or
    why not (exit 1), the same parse and checks the functions run.
    """
    import json
    import sys

    command = (argv if argv is not None else sys.argv[1:])[:1]
    if command == ["defaults"]:
        print(json.dumps(environment_defaults(), indent=2, sort_keys=True))
        return 0
    if command == ["check"]:
        env = json.load(sys.stdin)
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            print("expected a JSON object of string values", file=sys.stderr)
            return 2
        try:
            Settings.from_env(env)
        except SettingsError as exc:
            print(exc, file=sys.stderr)
            return 1
        return 0
    print("usage: python -m video2audio.core.settings defaults|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
