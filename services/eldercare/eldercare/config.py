"""Settings of the eldercare service (env prefix ``ELDERCARE_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

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
    dibao_status_source: Literal["welfare", "register"] = Field(
        default="welfare",
        description=(
            "Where the evaluation of one registered person (GET /persons/{person_id}/evaluation) "
            "reads whether they are in dibao (低保). `welfare` (spec: dibao status lives in the "
            "welfare service): welfare's enrolment lookup, asked with the person's citizen ID "
            "number and the caller's identity, decides; when welfare cannot answer (down, slow, "
            "refusing the caller) the register's recorded `dibao` circumstance is used and the "
            "evaluation lists that as degraded. `register`: only the recorded circumstance, welfare "
            "is not asked. Monthly snapshots and discovery always read the recorded circumstance: "
            "they evaluate the whole register in SQL batches, not one welfare call per person."
        ),
    )
    snapshot_batch_size: int = Field(
        default=250_000,
        ge=1,
        le=10_000_000,
        description="Persons written per batch (one INSERT … SELECT and one commit) of a month's snapshot "
        "run; a run taken over after a restart writes again only the batches not committed. Person ids "
        "are random, so every batch (a range of ids) scans the register's tables once: keep batches "
        "large (a month of N persons scans them N / batch size times).",
    )
    snapshot_work_mem: str = Field(
        default="64MB",
        pattern=r"^[0-9]{1,6}(kB|MB|GB)$",
        description="PostgreSQL work_mem of a snapshot run's statements (grouping the register by profile).",
    )
    interpretations: EldercareInterpretations = Field(default_factory=EldercareInterpretations)
