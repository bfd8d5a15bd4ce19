"""Settings of the welfare service (env prefix ``WELFARE_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import PersonalDataSettings, ServiceSettings
from welfare.interpretations import WelfareInterpretations

SERVICE_ROOT = Path(__file__).resolve().parent.parent


class Settings(PersonalDataSettings):
    model_config = ServiceSettings.model_config | {"env_prefix": "WELFARE_"}

    service_name: str = "welfare"
    port: int = 8002
    packs_dir: Path = Field(default=SERVICE_ROOT / "packs", description="Policy pack files.")
    recalculation_workers: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Connections that book arrears side by side in a recalculation.",
    )
    interpretations: WelfareInterpretations = Field(default_factory=WelfareInterpretations)
    recalculation_work_mem: str = Field(default="128MB", description="PostgreSQL work_mem for bulk jobs.")
