"""Settings every service shares; each service subclasses with its own env prefix.

``WELFARE_DATABASE_URL`` (for example) wins; without it the common ``DATABASE_URL``
is used, so in the default setup all services share one server, each in its schema.
"""

from __future__ import annotations

import os

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
