"""Alembic env of the eldercare service (schema ``eldercare``)."""

from eldercare.db import metadata
from shared.migrations import run_env

run_env(metadata)
