"""The token revocation list the gateway keeps and publishes to the services.

A holder's ``tokens_not_before`` is set when it is deactivated, its grants change or its
password (a client's secret) changes; tokens issued before that instant are refused. Only
instants younger than a token's lifetime matter (older tokens have expired anyway), so the
list stays as short as the number of recent changes. Subjects are published as digests.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.iam.models import Account, ApiClient
from shared.auth import subject_digest


async def load_not_before(session: AsyncSession, *, horizon_seconds: float) -> dict[str, float]:
    """Digest of subject → epoch seconds, for every revocation younger than ``horizon_seconds``."""
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=horizon_seconds)
    query = union_all(
        select(Account.username.label("subject"), Account.tokens_not_before).where(
            Account.tokens_not_before > cutoff
        ),
        select(
            (literal("client:") + ApiClient.client_id).label("subject"), ApiClient.tokens_not_before
        ).where(ApiClient.tokens_not_before > cutoff),
    )
    rows = await session.execute(query)
    return {subject_digest(subject): instant.timestamp() for subject, instant in rows if instant is not None}
