"""Progress reports (versioned), reporting duties, and leaders recorded as away."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from renewal.db import Base


class ProgressReport(Base):
    """One version of a unit's report on a task for a period; a correction is a new version."""

    __tablename__ = "progress_reports"
    __table_args__ = (UniqueConstraint("plan_id", "task_number", "unit", "period", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[str] = mapped_column(String(100), index=True)
    task_number: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(Integer)
    narrative: Mapped[str] = mapped_column(Text)
    indicator_values: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    evidence_links: Mapped[list[str]] = mapped_column(JSONB, default=list)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    review_status: Mapped[str] = mapped_column(String(16), default="submitted")
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    review_reason: Mapped[str | None] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer, default=1)


class ReportingDuty(Base):
    """A unit reports on a task every month or quarter, by a day of the following month."""

    __tablename__ = "reporting_duties"
    __table_args__ = (UniqueConstraint("plan_id", "task_number", "unit"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[str] = mapped_column(String(100), index=True)
    task_number: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(200))
    cadence: Mapped[str] = mapped_column(String(16))
    starts: Mapped[dt.date] = mapped_column(Date)
    due_day: Mapped[int] = mapped_column(Integer)
    grace_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LeaderAbsence(Base):
    __tablename__ = "leader_absences"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[str] = mapped_column(String(100), index=True)
    leader: Mapped[str] = mapped_column(String(100))
    away_from: Mapped[dt.date] = mapped_column(Date)
    away_to: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
