"""Settings of the renewal service (env prefix ``RENEWAL_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from renewal.interpretations import RenewalInterpretations
from shared.settings import ServiceSettings

SERVICE_ROOT = Path(__file__).resolve().parent.parent


class Settings(ServiceSettings):
    model_config = ServiceSettings.model_config | {"env_prefix": "RENEWAL_"}

    service_name: str = "renewal"
    port: int = 8004
    packs_dir: Path = Field(default=SERVICE_ROOT / "packs", description="Plan files (YAML).")
    interpretations: RenewalInterpretations = Field(default_factory=RenewalInterpretations)
