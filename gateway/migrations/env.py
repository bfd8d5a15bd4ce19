"""Alembic env of the gateway (schema ``iam``)."""

import gateway.iam.models  # noqa: F401  (registers the tables)
from gateway.db import metadata
from shared.migrations import run_env

run_env(metadata)
