"""Settings of the eldercare service (env prefix ``ELDERCARE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from eldercare.interpretations import EldercareInterpretations
from shared.settings import PersonalDataSettings, ServiceSettings

SERVICE_ROOT = Path(__file__).resolve().parent.parent


class Settings(PersonalDataSettings):
    model_config = ServiceSettings.model_config | {"env_prefix": "ELDERCARE_"}

    service_name: str = "eldercare"
    port: int = 8003
    packs_dir: Path = Field(default=SERVICE_ROOT / "packs", description="Catalogue pack files.")
    welfare_url: str = Field(
        default="http://127.0.0.1:8002",
        description="The welfare service, asked for the dibao standard (低保标准) of item 13 and for a "
        "registered person's dibao status.",
    )
    welfare_timeout_seconds: float = Field(
        default=2.0, gt=0, le=30, description="How long to wait for the welfare service."
    )
    welfare_retry_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="After the welfare service could not be reached, answer degraded without asking "
        "again for this long.",
    )
    standards_cache_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="How long a dibao standard read from welfare is kept per (jurisdiction, month).",
    )
    dibao_status_source: Literal["projection", "welfare", "register"] = Field(
        default="projection",
        description=(
            "Where the evaluation of one registered person (GET /persons/{person_id}/evaluation) "
            "reads whether they are in dibao (低保) and tekun (特困, with its care arrangement). "
            "`projection`: eldercare's own projection of welfare's register, fed by welfare's "
            "change events (the consumer below); a person welfare does not know gets the register's "
            "recorded circumstance, and the answer says which source was used and how fresh the "
            "projection is. `welfare`: welfare's enrolment lookup, asked live with the person's "
            "citizen ID number and the caller's identity (when welfare cannot answer, the recorded "
            "circumstance, listed as degraded). `register`: only the recorded circumstance. Monthly "
            "snapshots and discovery read the projection under `projection`, else the recorded "
            "circumstance (they evaluate the whole register in SQL, not one call per person)."
        ),
    )
    welfare_feed_client_id: str = Field(
        default="eldercare-welfare-feed",
        description="Eldercare's own API client (client credentials, `welfare:read welfare:pii` over "
        "its city) with which it follows welfare's change events; `platformctl clients "
        "eldercare-feed` creates it.",
    )
    welfare_feed_client_secret: SecretStr | None = Field(
        default=None, description="That client's secret; unset: the projection is not fed."
    )
    token_url: str | None = Field(
        default=None,
        description="Where the consumer asks for its token (the gateway's /auth/token); default: "
        "beside jwks_url.",
    )
    welfare_feed_wait_seconds: int = Field(
        default=5, ge=0, le=30, description="Long polling: how long one read of welfare's feed waits."
    )
    welfare_feed_batch: int = Field(default=500, ge=1, le=1000, description="Events read per page.")
    welfare_feed_lease_seconds: float = Field(
        default=30, gt=0, le=600, description="The consuming replica's lease; another takes over after it."
    )
    welfare_feed_max_backoff_seconds: float = Field(
        default=30,
        gt=0,
        le=600,
        description="Longest wait between attempts while welfare (or the gateway) cannot be reached.",
    )
    snapshot_batch_size: int = Field(
        default=1_000_000,
        ge=1,
        le=10_000_000,
        description="Persons written per batch (one INSERT … SELECT and one commit) of a month's snapshot "
        "run; a run taken over after a restart writes again only the batches not committed. Person ids "
        "are random, so every batch (a range of ids) scans the register's tables once: keep batches "
        "large (a month of N persons scans them N / batch size times; at 1.5M persons six batches "
        "of 250,000 took 59 s, two of 750,000 47 s, one 48 s).",
    )
    snapshot_read_parts: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Parts of the scope (its jurisdictions dealt in turn) a month's run reads one after "
        "another, each grouped by the database on a connection of its own while the part before is "
        "evaluated (two connections at a time: the database groups one part while the service "
        "evaluates another). A key found in several parts is evaluated once.",
    )
    snapshot_work_mem: str = Field(
        default="64MB",
        pattern=r"^[0-9]{1,6}(kB|MB|GB)$",
        description="PostgreSQL work_mem of a snapshot run's statements (grouping the register by profile).",
    )
    interpretations: EldercareInterpretations = Field(default_factory=EldercareInterpretations)
