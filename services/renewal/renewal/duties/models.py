"""Reporting duties set through the API (a plan's own cadence is in its plan file)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from renewal.db import Base


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
