"""Alembic env of the welfare service (schema ``welfare``)."""

from shared.migrations import run_env
from welfare.db import metadata

run_env(metadata)
