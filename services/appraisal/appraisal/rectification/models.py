"""Rectification reports (整改报告): due one month after publication (Panjin art. 11,
Zhumadian art. 14)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from appraisal.db import Base
from shared.db import Versioned


class RectificationReport(Versioned, Base):
    """A subject's written report with measures and deadlines, answering the publication of
    ``published_on``."""

    __tablename__ = "rectification_reports"
    __table_args__ = (UniqueConstraint("subject_id", "published_on"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    published_on: Mapped[dt.date] = mapped_column(Date)
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    measures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    submitted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
