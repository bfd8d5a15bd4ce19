"""Settings of the welfare service (env prefix ``WELFARE_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings

SERVICE_ROOT = Path(__file__).resolve().parent.parent


class Settings(ServiceSettings):
    model_config = ServiceSettings.model_config | {"env_prefix": "WELFARE_"}

    service_name: str = "welfare"
    port: int = 8002
    packs_dir: Path = Field(default=SERVICE_ROOT / "packs", description="Policy pack files.")
