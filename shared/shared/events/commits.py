"""A wake-up, within one process, for readers waiting on the outbox: rung when a transaction of
this process that wrote an event has committed.

The feed's long polling waits on it instead of looking every quarter second: an event written
through this process is served at once, and a waiting reader costs no database work meanwhile.
It is a hint, never the source of truth: readers still look now and then (an event written by
another replica, or one held back behind a transaction still running, see
:mod:`shared.events.feed`), and a look finds what a ring would have announced.

Nothing goes through the database (no NOTIFY, whose commits PostgreSQL serialises): the write
path marks its session (:func:`mark_written`), and the session's ``after_commit`` rings the
signal its session factory carries (:func:`session_info`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_SIGNAL = "outbox_commits"
_WRITTEN = "outbox_written"


class OutboxCommits:
    """One per service process (on its :class:`shared.db.Database`)."""

    def __init__(self) -> None:
        self._next = asyncio.Event()

    def next(self) -> asyncio.Event:
        """Set by the next commit that writes an event. Take it *before* looking, then wait on
        it: a commit between the look and the wait is not missed."""
        return self._next

    def ring(self) -> None:
        rung, self._next = self._next, asyncio.Event()
        rung.set()


def session_info(commits: OutboxCommits) -> dict[str, Any]:
    """``info`` for a session factory whose sessions ring ``commits``."""
    return {_SIGNAL: commits}


def mark_written(session: Session | AsyncSession) -> None:
    """This session's transaction wrote an event: ring when it commits."""
    session.info[_WRITTEN] = True


@event.listens_for(Session, "after_commit")
def _rang(session: Session) -> None:
    if session.info.pop(_WRITTEN, False) and isinstance(commits := session.info.get(_SIGNAL), OutboxCommits):
        commits.ring()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
