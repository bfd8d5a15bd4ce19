"""Monthly entitlement snapshots: what each registered person was entitled to in a month.

A month is written by a :class:`SnapshotRun` (a background job). Each person's row points
to one :class:`SnapshotProfile`, the evaluated entitlements shared by every person alike
(same catalogue version, same result): a month of 1.5 million persons stores a few
thousand profiles, not 1.5 million copies of the same JSON.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from eldercare.db import Base
from shared.jobs import BackgroundJob, job_constraints


class SnapshotRun(BackgroundJob, Base):
    """A run computing a month's snapshots for the persons of a jurisdiction and below.

    ``total``/``done`` count persons; ``batches`` is the number of person-id ranges the
    run writes (fixed at its first attempt), ``completed_batches`` those committed, so a
    run taken over after a restart writes only the others.
    """

    __tablename__ = "snapshot_runs"
    __table_args__ = (*job_constraints(), Index("ix_snapshot_runs_jurisdiction", "jurisdiction"))

    month: Mapped[dt.date] = mapped_column(Date)
    persons_created: Mapped[int] = mapped_column(Integer, default=0)
    persons_already_present: Mapped[int] = mapped_column(Integer, default=0)
    distinct_profiles: Mapped[int] = mapped_column(Integer, default=0)
    degraded: Mapped[int] = mapped_column(Integer, default=0)
    dibao_standards: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    dibao_status: Mapped[dict[str, Any] | None] = mapped_column(
        JSONB, comment="where dibao and tekun came from, and how fresh the projection was"
    )
    batches: Mapped[int] = mapped_column(Integer, default=0)
    completed_batches: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)


class SnapshotProfile(Base):
    """An evaluated result shared by the snapshots of persons alike.

    The id is derived from the content (catalogue version, total, flags, entitlements), so
    the same result in another month or run is the same row.
    ``entitlements`` is a JSON list of ``{item, name, amount, period, degraded}``.
    """

    __tablename__ = "snapshot_profiles"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    catalogue_version: Mapped[str] = mapped_column(String(200))
    monthly_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    complete: Mapped[bool] = mapped_column(Boolean)
    degraded: Mapped[bool] = mapped_column(Boolean)
    entitlements: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SnapshotProfileKey(Base):
    """While a run writes: which profile the persons of each group (catalogue, circumstances
    read, age class) get. Deleted when the run ends."""

    __tablename__ = "snapshot_profile_keys"

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("snapshot_runs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("snapshot_profiles.id"))


class SnapshotRunWelfare(Base):
    """While a run writes: welfare's dibao and tekun status of each person it knows, read from
    the projection once when the run (or its resumed attempt) began, so that its grouping and
    every batch read the same state. Deleted when the run ends."""

    __tablename__ = "snapshot_run_welfare"
    __table_args__ = {
        "comment": "while a month's run writes: welfare's dibao and tekun status of each person it knows, "
        "read from the projection once when the run (or its resumed attempt) began"
    }

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("snapshot_runs.id", ondelete="CASCADE"), primary_key=True
    )
    citizen_id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dibao: Mapped[bool] = mapped_column(Boolean)
    tekun_in: Mapped[bool] = mapped_column(Boolean)
    tekun: Mapped[str | None] = mapped_column(String(16))


class EntitlementSnapshot(Base):
    """A person's entitlements in a month, as computed then (one row per person and month)."""

    __tablename__ = "entitlement_snapshots"
    __table_args__ = (Index("ix_entitlement_snapshots_month_jurisdiction", "month", "jurisdiction"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[uuid.UUID] = mapped_column()
    """The run that wrote it (no foreign key: its check would be paid once per person of a month)."""
    profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("snapshot_profiles.id"))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    profile: Mapped[SnapshotProfile] = relationship(lazy="joined", innerjoin=True)

    @property
    def catalogue_version(self) -> str:
        return self.profile.catalogue_version

    @property
    def monthly_total(self) -> Decimal:
        return self.profile.monthly_total

    @property
    def complete(self) -> bool:
        return self.profile.complete

    @property
    def degraded(self) -> bool:
        return self.profile.degraded

    @property
    def entitlements(self) -> list[dict[str, Any]]:
        return self.profile.entitlements
