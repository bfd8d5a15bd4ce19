"""Gateway settings (env prefix ``GATEWAY_``; a few platform-wide names without it)."""

from __future__ import annotations

import ipaddress

from pydantic import AliasChoices, Field, field_validator, model_validator

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
    upstream_timeout_seconds: float = Field(
        default=40.0, gt=0, description="Above the 30 s an event feed may hold a long-polling request."
    )
    upstream_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    upstream_pool_size: int = Field(default=256, ge=1)
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest request body, unless route_body_limits says more.",
    )
    route_body_limits: dict[str, int] = Field(
        default_factory=lambda: {
            "/api/appraisal/v1/years/*/subjects/*/evidence": 12 * 1024 * 1024,
            "/api/*/v1/imports*": 64 * 1024 * 1024,
        },
        description=(
            "Largest request body per path pattern (shell-style, * matches any characters), first "
            "match wins: evidence files and imports are larger than the default."
        ),
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A request's line and headers must arrive within this, else 408 (gateway.server).",
    )
    max_header_count: int = Field(default=100, ge=10, description="More request headers: 431.")
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        description="Longer request line and headers together: 431 (414 for the line).",
    )
    body_grace_seconds: float = Field(
        default=10.0, gt=0, description="A request body may start this late before the minimum rate applies."
    )
    min_body_rate_bytes_per_second: int = Field(
        default=4096,
        ge=1,
        description=(
            "Slowest accepted request body after the grace time (4 KiB/s: 10 MiB in about 43 min); "
            "slower bodies get 408 and the service's connection is released."
        ),
    )
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
    password_hash_queue_limit: int = Field(
        default=32,
        ge=1,
        le=10_000,
        description=(
            "Sign-ins waiting for a hashing slot at most; beyond, 503 with Retry-After at once "
            "(a flood from many addresses cannot make every sign-in wait)."
        ),
    )
    signin_failures_per_address: int = Field(
        default=10, ge=1, description="Sign-in attempts of one name from one address before lock-outs begin."
    )
    signin_failures_per_name: int = Field(
        default=30,
        ge=1,
        description="Sign-in attempts of one name from all addresses together before lock-outs begin.",
    )
    signin_lockout_base_seconds: float = Field(
        default=1.0, gt=0, description="First lock-out; each further attempt doubles it (429, Retry-After)."
    )
    signin_lockout_max_seconds: float = Field(default=900.0, gt=0, description="Longest lock-out.")
    signin_window_seconds: float = Field(
        default=900.0, gt=0, description="Attempts are forgotten this long after the last one."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses or networks (CIDR) of proxies in front of the gateway whose X-Forwarded-For "
            "is believed; empty: the peer address is the client's."
        ),
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

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names a bad entry
        return value

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in self.trusted_proxies)

    def service_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url").rstrip("/") for name in SERVICE_NAMES}

    @property
    def jwks_path(self) -> str:
        return "/.well-known/jwks.json"
