"""Alembic env of the appraisal service (schema ``appraisal``)."""

from appraisal.db import metadata
from shared.migrations import run_env

run_env(metadata)
