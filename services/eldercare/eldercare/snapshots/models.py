"""Monthly entitlement snapshots: what each registered person was entitled to in a month."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from eldercare.db import Base


class SnapshotRun(Base):
    """One request that computed a month's snapshots for the persons of a jurisdiction."""

    __tablename__ = "snapshot_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    month: Mapped[dt.date] = mapped_column(Date)
    requested_by: Mapped[str] = mapped_column(String(200))
    persons_created: Mapped[int] = mapped_column(Integer)
    persons_already_present: Mapped[int] = mapped_column(Integer)
    distinct_profiles: Mapped[int] = mapped_column(Integer)
    degraded: Mapped[int] = mapped_column(Integer)
    dibao_standards: Mapped[dict[str, Any]] = mapped_column(JSONB)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EntitlementSnapshot(Base):
    """A person's entitlements in a month, as computed then (one row per person and month).

    ``entitlements`` is a JSON list of ``{item, name, amount, period, degraded}``.
    """

    __tablename__ = "entitlement_snapshots"
    __table_args__ = (Index("ix_entitlement_snapshots_month_jurisdiction", "month", "jurisdiction"),)

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("snapshot_runs.id"))
    catalogue_version: Mapped[str] = mapped_column(String(200))
    monthly_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    complete: Mapped[bool] = mapped_column(Boolean)
    degraded: Mapped[bool] = mapped_column(Boolean)
    entitlements: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
