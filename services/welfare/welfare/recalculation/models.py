"""Recalculation runs: a job per (jurisdiction, from month) with progress and counts."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Date, DateTime, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from welfare.db import Base


class RecalculationRun(Base):
    __tablename__ = "recalculation_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jurisdiction: Mapped[str] = mapped_column(String(32), index=True)
    from_month: Mapped[dt.date] = mapped_column(Date)
    trigger: Mapped[str] = mapped_column(String(32))
    standard_version_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    recalculated: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    arrears_entries: Mapped[int] = mapped_column(Integer, default=0)
    arrears_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    unpriced: Mapped[int] = mapped_column(Integer, default=0)
    completed_batches: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
