"""Settings every service shares; each service subclasses with its own env prefix.

``WELFARE_DATABASE_URL`` (for example) wins; without it the common ``DATABASE_URL``
is used, so in the default setup all services share one server, each in its schema.

Secrets may come as files instead of environment variables: with ``CIVIC_SECRETS_DIR``
set (the image sets ``/run/secrets``, where compose and the Kubernetes manifests mount
each component's own secrets), a file named like the variable (``WELFARE_CITIZEN_ID_KEY``,
``WELFARE_DATABASE_PASSWORD``, …) gives that setting. An environment variable wins.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000"
SECRETS_DIR_VARIABLE = "CIVIC_SECRETS_DIR"


def async_database_url(url: str) -> str:
    """Accept ``postgresql://`` / ``postgres://`` URLs and use the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def secrets_dir() -> Path | None:
    """Where secret files are read from (``CIVIC_SECRETS_DIR``), if anywhere."""
    value = os.environ.get(SECRETS_DIR_VARIABLE, "").strip()
    return Path(value) if value else None


def read_secret(name: str) -> str | None:
    """A secret by its variable name: the environment first, then ``$CIVIC_SECRETS_DIR/<name>``."""
    value = os.environ.get(name)
    if value:
        return value
    folder = secrets_dir()
    if folder is not None and (folder / name).is_file():
        return (folder / name).read_text(encoding="utf-8").strip() or None
    return None


def url_with_credentials(url: str, user: str | None = None, password: str | None = None) -> str:
    """``url`` with its user and/or password replaced (both percent-encoded)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    old_user, _, old_password = parts.netloc.rpartition("@")[0].partition(":")
    user = quote(user, safe="") if user is not None else old_user
    password = quote(password, safe="") if password is not None else old_password
    if user:
        netloc = f"{user}:{password}@{netloc}" if password else f"{user}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def url_has_password(url: str) -> bool:
    return bool(urlsplit(url).password)


class JobSettings(BaseModel):
    """How background jobs (``shared.jobs``) are leased, polled and retried: ``<P>JOBS__<NAME>``."""

    lease_seconds: float = Field(
        default=30,
        ge=1,
        description="A running job's lease; a job whose lease expired (its process died) is taken over.",
    )
    heartbeat_seconds: float = Field(
        default=10, gt=0, description="How often the replica running a job renews its lease."
    )
    poll_seconds: float = Field(
        default=5,
        gt=0,
        description="How often each replica looks for queued jobs and jobs whose lease expired.",
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Attempts before a job that keeps raising an error is marked failed."
    )
    statement_timeout_ms: int = Field(
        default=600_000,
        ge=0,
        description=(
            "Statement timeout inside a background job's transactions (0: none); a large batch "
            "must not be cut by the requests' <P>DB_STATEMENT_TIMEOUT_MS."
        ),
    )
    lock_timeout_ms: int = Field(
        default=10_000,
        ge=1,
        description=(
            "How long a run answered within its request (a payroll) waits for the booking locks of "
            "its area before it answers 409 with Retry-After."
        ),
    )

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> JobSettings:
        if self.heartbeat_seconds * 2 > self.lease_seconds:
            raise ValueError("jobs.heartbeat_seconds must be at most half of jobs.lease_seconds")
        return self


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    service_name: str = "service"
    database_url: str = Field(
        default="",
        description="postgresql:// URL of this service's database; defaults to DATABASE_URL.",
    )
    database_password: SecretStr | None = Field(
        default=None,
        description=(
            "Password of the database URL's user when the URL has none (a secret file "
            "<P>DATABASE_PASSWORD, so that the URL itself can live in plain configuration)."
        ),
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_statement_timeout_ms: int = Field(default=30_000, ge=100)
    db_transaction_pooler: bool = Field(
        default=False,
        description=(
            "The database URL points at a pooler in transaction mode (PgBouncer, a CloudNativePG "
            "Pooler): no prepared-statement caches (asyncpg statement_cache_size=0) and no startup "
            "parameters; search_path, statement_timeout and timezone then come from the role "
            "(ALTER ROLE … SET, done by `platformctl database provision`)."
        ),
    )
    host: str = "127.0.0.1"
    port: int = 8000
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description=(
            "Serve /metrics on this port (same host) instead of the public one; "
            "unset: /metrics is on the public port."
        ),
    )
    jwks_url: str = Field(
        default=f"{DEFAULT_GATEWAY_URL}/.well-known/jwks.json",
        description="Where the gateway publishes its token signing keys.",
    )
    token_issuer: str = "civic-gateway"  # noqa: S105 - a name, not a secret
    token_audience: str = "civic-platform"  # noqa: S105
    jwks_refresh_min_seconds: float = Field(
        default=1.0, description="Least time between two JWKS fetches caused by unknown kids."
    )
    max_body_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description=(
            "Largest request body the service reads (the gateway limits each route more closely); "
            "a larger one, or one without a valid bearer token, is refused before it is read."
        ),
    )
    revocation_max_age_seconds: float = Field(
        default=2.0,
        gt=0,
        le=2,
        description=(
            "Oldest the gateway's token revocation list may be when a token is checked; fetched "
            "again (in the background at half this age) from the gateway beside jwks_url."
        ),
    )
    log_level: str = "INFO"
    log_json: bool = True
    jobs: JobSettings = Field(default_factory=JobSettings)
    events_relay: bool = Field(
        default=True,
        description="Run the event relay in this process (webhook deliveries, NATS publishing); "
        "every replica may run it, each event is delivered once between them.",
    )
    events_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often the relay looks for new events and due deliveries."
    )
    scheduler: bool = Field(
        default=True,
        description="Run the event scheduler in this process (events no write causes: a task overdue, "
        "a bulletin published); every replica may run it, one at a time holds the round.",
    )
    scheduler_interval_seconds: float = Field(
        default=300.0, gt=0, le=86400, description="How often the scheduler runs its checks."
    )
    scheduler_today: dt.date | None = Field(
        default=None,
        description="The day the scheduler's checks take as today (default: today in Asia/Shanghai); "
        "for tests and rehearsals.",
    )
    webhooks_allow_private_targets: bool = Field(
        default=False,
        description="Allow webhook targets on loopback, link-local and private addresses (tests, intranets).",
    )
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0, le=60, description="Per-delivery timeout.")
    webhooks_retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        description="Waits before each retry (each with ±20 % jitter); after the last one fails, the "
        "delivery fails and the subscription is paused (about 27.5 h in all by default).",
    )
    webhooks_revocation_window_seconds: float = Field(
        default=600,
        ge=10,
        description=(
            "Longest a subscription's grants may go without being checked against the gateway's "
            "revocation list; beyond it (no relay ran, or the list could not be fetched) the "
            "subscription is paused until its owner confirms its grants. Keep it below the "
            "gateway's token lifetime plus 60 s: the list holds revocations only that long."
        ),
    )
    webhooks_secret_grace_seconds: float = Field(
        default=86400, ge=0, description="After a secret rotation, how long the previous secret signs too."
    )
    nats_url: str | None = Field(
        default=None,
        description="NATS server with JetStream (<P>NATS_URL, else NATS_URL): every event is also "
        "published to civic.{service}.{type}; unset: no broker is used.",
    )
    nats_stream: str = Field(default="CIVIC_EVENTS", description="JetStream stream (created if missing).")
    nats_stream_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Copies of the stream when this service creates it (3 on a cluster).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then secret files in ``CIVIC_SECRETS_DIR``."""
        files = SecretsSettingsSource(settings_cls, secrets_dir=secrets_dir())
        return init_settings, env_settings, dotenv_settings, files

    @model_validator(mode="after")
    def _default_database_url(self) -> ServiceSettings:
        if self.nats_url is None:
            self.nats_url = os.environ.get("NATS_URL") or None
        if not self.database_url:
            self.database_url = os.environ.get("DATABASE_URL", "")
        if not self.database_url:
            raise ValueError(
                f"{self.service_name}: set {self.service_name.upper()}_DATABASE_URL or DATABASE_URL"
            )
        self.database_url = async_database_url(self.database_url)
        if self.database_password is not None and not url_has_password(self.database_url):
            self.database_url = url_with_credentials(
                self.database_url, password=self.database_password.get_secret_value()
            )
        return self


class PersonalDataSettings(ServiceSettings):
    """Settings of a service that stores citizen ID numbers (welfare, eldercare)."""

    citizen_id_key: str = Field(
        description="Key that encrypts new citizen ID numbers: base64 of 32 bytes (aes-256-gcm) or "
        "of 16 bytes (sm4-gcm, see citizen_id_algorithm); `ALGORITHM:BASE64` also accepted. Keep it: "
        "without it the stored numbers cannot be read back.",
    )
    citizen_id_algorithm: Literal["aes-256-gcm", "sm4-gcm"] = Field(
        default="aes-256-gcm", description="Cipher of new ciphertexts; sm4-gcm for 商用密码 deployments."
    )
    citizen_id_previous_keys: list[str] = Field(
        default_factory=list,
        description="Earlier keys (`ALGORITHM:BASE64` or BASE64 for aes-256-gcm), still able to decrypt "
        "records not yet moved to the current key by `platformctl rotate-citizen-id-key`.",
    )
    citizen_id_lookup_key: str | None = Field(
        default=None,
        description="Key of the keyed hash that finds a person by number: base64 of at least 32 bytes, "
        "separate from the encryption key so that rotating that key never changes who is a duplicate. "
        "Unset: derived from the encryption key as before (a warning is logged).",
    )
    citizen_id_lookup_algorithm: Literal["hmac-sha256", "hmac-sm3"] = Field(default="hmac-sha256")
    citizen_id_previous_lookup_keys: list[str] = Field(
        default_factory=list, description="Earlier lookup keys, searched too while hashes are re-made."
    )
