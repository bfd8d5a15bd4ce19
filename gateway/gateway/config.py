"""Gateway settings (env prefix ``GATEWAY_``; a few platform-wide names without it)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator

from shared.settings import ServiceSettings

SERVICE_NAMES = ("appraisal", "welfare", "eldercare", "renewal")


class GatewaySettings(ServiceSettings):
    model_config = ServiceSettings.model_config | {"env_prefix": "GATEWAY_"}

    service_name: str = "gateway"
    port: int = 8000
    appraisal_url: str = "http://127.0.0.1:8001"
    welfare_url: str = "http://127.0.0.1:8002"
    eldercare_url: str = "http://127.0.0.1:8003"
    renewal_url: str = "http://127.0.0.1:8004"
    public_url: str = Field(default="", description="Base URL clients use; defaults to http://host:port.")
    upstream_timeout_seconds: float = Field(default=30.0, gt=0)
    upstream_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    upstream_pool_size: int = Field(default=256, ge=1)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    rate_limit_per_minute: int = Field(
        default=6000, ge=1, description="Per client, unless the client has its own."
    )
    anonymous_rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Per IP address for calls without a token."
    )
    redis_url: str = Field(default="", validation_alias=AliasChoices("GATEWAY_REDIS_URL", "REDIS_URL"))
    replicas: int = Field(
        default=1,
        ge=1,
        description="How many gateway processes serve the platform side by side. With more than one, "
        "rate limits must be counted in one place: REDIS_URL is required.",
    )
    cors_origins: list[str] = Field(default_factory=list)
    token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    bootstrap_admin_username: str = Field(
        default="",
        validation_alias=AliasChoices("GATEWAY_BOOTSTRAP_ADMIN_USERNAME", "BOOTSTRAP_ADMIN_USERNAME"),
    )
    bootstrap_admin_password: str = Field(
        default="",
        validation_alias=AliasChoices("GATEWAY_BOOTSTRAP_ADMIN_PASSWORD", "BOOTSTRAP_ADMIN_PASSWORD"),
    )
    openapi_cache_seconds: float = Field(default=30.0, ge=0)
    password_hash_memory_kib: int = Field(
        default=19_456, ge=8_192, le=1_048_576, description="argon2id memory per hash, KiB (OWASP minimum)."
    )
    password_hash_time_cost: int = Field(default=2, ge=1, le=10, description="argon2id iterations.")
    password_hash_parallelism: int = Field(default=1, ge=1, le=8, description="argon2id lanes.")
    password_hash_concurrency: int = Field(
        default=2, ge=1, le=64, description="At most this many hashes at once (each holds its memory)."
    )
    refresh_seconds: float = Field(default=30.0, gt=0, description="How often signing keys are re-read.")
    revocation_refresh_seconds: float = Field(
        default=1.0,
        gt=0,
        le=2,
        description=(
            "How often token revocations (deactivated accounts and clients, changed grants) and "
            "client rate limits are re-read from the database."
        ),
    )

    @model_validator(mode="after")
    def several_gateways_share_their_counters(self) -> GatewaySettings:
        if self.replicas > 1 and not self.redis_url:
            raise ValueError(
                f"GATEWAY_REPLICAS={self.replicas}: several gateways count rate limits together only "
                "through Redis; set REDIS_URL (or GATEWAY_REDIS_URL)"
            )
        return self

    def service_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url").rstrip("/") for name in SERVICE_NAMES}

    @property
    def jwks_path(self) -> str:
        return "/.well-known/jwks.json"
