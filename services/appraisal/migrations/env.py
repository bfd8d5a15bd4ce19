"""Alembic env of the appraisal service (schema ``appraisal``)."""

import appraisal.models  # noqa: F401  (registers every table)
from appraisal.db import metadata
from shared.migrations import run_env

run_env(metadata)
