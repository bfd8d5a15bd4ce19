"""Alembic env of the welfare service (schema ``welfare``)."""

from welfare.db import metadata
from shared.migrations import run_env

run_env(metadata)
