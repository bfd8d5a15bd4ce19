"""Settings every service shares; each service subclasses with its own env prefix.

``WELFARE_DATABASE_URL`` (for example) wins; without it the common ``DATABASE_URL``
is used, so in the default setup all services share one server, each in its schema.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_GATEWAY_URL = "http://127.0.0.1:8000"


def async_database_url(url: str) -> str:
    """Accept ``postgresql://`` / ``postgres://`` URLs and use the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    service_name: str = "service"
    database_url: str = Field(
        default="",
        description="postgresql:// URL of this service's database; defaults to DATABASE_URL.",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_statement_timeout_ms: int = Field(default=30_000, ge=100)
    host: str = "127.0.0.1"
    port: int = 8000
    jwks_url: str = Field(
        default=f"{DEFAULT_GATEWAY_URL}/.well-known/jwks.json",
        description="Where the gateway publishes its token signing keys.",
    )
    token_issuer: str = "civic-gateway"  # noqa: S105 - a name, not a secret
    token_audience: str = "civic-platform"  # noqa: S105
    jwks_refresh_min_seconds: float = Field(
        default=1.0, description="Least time between two JWKS fetches caused by unknown kids."
    )
    log_level: str = "INFO"
    log_json: bool = True

    @model_validator(mode="after")
    def _default_database_url(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = os.environ.get("DATABASE_URL", "")
        if not self.database_url:
            raise ValueError(
                f"{self.service_name}: set {self.service_name.upper()}_DATABASE_URL or DATABASE_URL"
            )
        self.database_url = async_database_url(self.database_url)
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
