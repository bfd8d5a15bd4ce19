"""Eldercare's projection of welfare's register: who is in dibao and tekun, on which months.

Fed by welfare's change events (``eldercare.projection.consumer``); the consumer's position
in welfare's feed is kept in the same transaction as what the events changed.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Date, DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from eldercare.db import Base


class WelfareFeed(Base):
    """The consumer's position in a feed, its lease, and how fresh the projection is."""

    __tablename__ = "welfare_feed"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(64), comment="welfare's next_cursor, read on from it")
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_event_id: Mapped[uuid.UUID | None] = mapped_column()
    last_event_time: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_sequence: Mapped[str | None] = mapped_column(String(64))
    events_applied: Mapped[int] = mapped_column(BigInteger, default=0)
    events_ignored: Mapped[int] = mapped_column(BigInteger, default=0)
    caught_up_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), comment="when a read last reached the end of the feed"
    )
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WelfareEventSeen(Base):
    """Every event applied (or ignored), by id: an event delivered twice counts once."""

    __tablename__ = "welfare_events_seen"

    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WelfarePerson(Base):
    """A person of welfare's register (through their household a dibao enrolment covers them),
    known by the keyed hash eldercare's register keeps of the same citizen ID number."""

    __tablename__ = "welfare_persons"

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    household_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    citizen_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)


class WelfareEnrolment(Base):
    """A welfare enrolment as its last event stated it (dibao: a household; tekun: a person)."""

    __tablename__ = "welfare_enrolments"

    enrolment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    program: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(32))
    household_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    start_month: Mapped[dt.date] = mapped_column(Date)
    end_month: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    arrangement: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
