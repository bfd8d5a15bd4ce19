"""Settings of the appraisal service (env prefix ``APPRAISAL_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings

SERVICE_ROOT = Path(__file__).resolve().parent.parent


class Settings(ServiceSettings):
    model_config = ServiceSettings.model_config | {"env_prefix": "APPRAISAL_"}

    service_name: str = "appraisal"
    port: int = 8001
    packs_dir: Path = Field(default=SERVICE_ROOT / "packs", description="Policy pack files.")
