"""Alembic env of the eldercare service (schema ``eldercare``)."""

import eldercare.models  # noqa: F401  (registers every table)
from eldercare.db import metadata
from shared.migrations import run_env

run_env(metadata)
