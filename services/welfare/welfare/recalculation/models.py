"""Recalculation runs: a background job per (jurisdiction, from month) with progress and counts."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Date, Index, Integer, Numeric, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.jobs import BackgroundJob, job_constraints
from welfare.db import Base


class RecalculationRun(BackgroundJob, Base):
    """``total``/``done`` count enrolments; ``completed_batches`` the hash buckets booked so far
    (a run taken over by another replica resumes with the others)."""

    __tablename__ = "recalculation_runs"
    __table_args__ = (*job_constraints(), Index("ix_recalculation_runs_jurisdiction", "jurisdiction"))

    from_month: Mapped[dt.date] = mapped_column(Date)
    trigger: Mapped[str] = mapped_column(String(32))
    standard_version_id: Mapped[uuid.UUID | None] = mapped_column()
    recalculated: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    arrears_entries: Mapped[int] = mapped_column(Integer, default=0)
    arrears_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    unpriced: Mapped[int] = mapped_column(Integer, default=0)
    completed_batches: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
