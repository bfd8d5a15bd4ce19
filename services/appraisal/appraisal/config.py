"""Settings of the appraisal service (env prefix ``APPRAISAL_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from appraisal.interpretations import AppraisalInterpretations
from shared.settings import ServiceSettings

SERVICE_ROOT = Path(__file__).resolve().parent.parent
MEBIBYTE = 1024 * 1024


class Settings(ServiceSettings):
    model_config = ServiceSettings.model_config | {"env_prefix": "APPRAISAL_"}

    service_name: str = "appraisal"
    port: int = 8001
    packs_dir: Path = Field(default=SERVICE_ROOT / "packs", description="Scheme files (YAML).")
    interpretations: AppraisalInterpretations = Field(
        default_factory=AppraisalInterpretations,
        description="The spec's Interpretations (APPRAISAL_INTERPRETATIONS__<NAME>).",
    )
    evidence_max_bytes: int = Field(
        default=10 * MEBIBYTE,
        ge=1,
        le=1024 * MEBIBYTE,
        description="Largest evidence file (佐证材料) accepted; larger uploads get 413.",
    )
    evidence_max_unpacked_bytes: int = Field(
        default=100 * MEBIBYTE,
        ge=1,
        le=16 * 1024 * MEBIBYTE,
        description="Most a DOCX or XLSX evidence file may unpack to (its members' sizes as its zip "
        "directory states them, read without inflating); more is 422, so a zip bomb costs nothing.",
    )
    evidence_max_package_members: int = Field(
        default=5000,
        ge=1,
        le=1_000_000,
        description="Most members a DOCX or XLSX evidence file may have; more is 422.",
    )
