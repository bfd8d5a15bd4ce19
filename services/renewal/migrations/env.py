"""Alembic env of the renewal service (schema ``renewal``)."""

import renewal.models  # noqa: F401  (registers every table)
from renewal.db import metadata
from shared.migrations import run_env

run_env(metadata)
