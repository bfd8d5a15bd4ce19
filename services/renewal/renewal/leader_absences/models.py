"""Leaders recorded as away: while away, a stand-in (互补) answers for their tasks."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from renewal.db import Base


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
