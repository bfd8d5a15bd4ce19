"""Alembic env of the renewal service (schema ``renewal``)."""

from renewal.db import metadata
from shared.migrations import run_env

run_env(metadata)
