"""Alembic env of the welfare service (schema ``welfare``)."""

import welfare.models  # noqa: F401  (registers every table)
from shared.migrations import run_env
from welfare.db import metadata

run_env(metadata)
