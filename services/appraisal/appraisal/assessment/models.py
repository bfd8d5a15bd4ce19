"""What the stages before the comprehensive evaluation record about a subject: daily
assessment scores, the mid-year review, the status evaluation figures, the county's
self-evaluation and the departments' review opinions."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from appraisal.db import Base
from appraisal.years.models import PointsColumn
from shared.db import Versioned


class ScoreEntry(Versioned, Base):
    """日常考核结果: the points a member department gives a subject on one indicator, with the
    method it used (资料审查, 线上抽查, 明查暗访, 调研督导)."""

    __tablename__ = "score_entries"
    __table_args__ = (UniqueConstraint("subject_id", "indicator_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("years.id"), index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"))
    indicator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("indicators.id"), index=True)
    department: Mapped[str] = mapped_column(String(200))
    points: Mapped[Decimal] = mapped_column(PointsColumn)
    method: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class MidYearReview(Versioned, Base):
    """年中评价 / 年中督促: key tasks and whether last year's problems were rectified; a
    ``last_year_rectified`` of false feeds the office-head interview (Panjin art. 14 para. 2,
    Zhumadian art. 17 para. 3)."""

    __tablename__ = "mid_year_reviews"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), unique=True)
    reviewed_on: Mapped[dt.date] = mapped_column(Date)
    key_tasks: Mapped[str] = mapped_column(Text)
    last_year_rectified: Mapped[bool | None] = mapped_column(Boolean)
    findings: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StatusEvaluation(Versioned, Base):
    """食品安全状况评价: satisfaction survey and pass rates (percent)."""

    __tablename__ = "status_evaluations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), unique=True)
    satisfaction: Mapped[Decimal | None] = mapped_column(PointsColumn)
    food_sampling_pass_rate: Mapped[Decimal | None] = mapped_column(PointsColumn)
    farm_produce_monitoring_pass_rate: Mapped[Decimal | None] = mapped_column(PointsColumn)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SelfEvaluation(Versioned, Base):
    """自评 / 年终自查: the county's own points per indicator and its statement; the county
    answers for their truth (Panjin art. 7(四), Zhumadian art. 7(四))."""

    __tablename__ = "self_evaluations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), unique=True)
    statement: Mapped[str] = mapped_column(Text)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    submitted_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ReviewOpinion(Base):
    """部门评审 / 年终评审意见: a department's opinion on one indicator of a subject and the
    points it settles on (which replace the daily-assessment points of that indicator)."""

    __tablename__ = "review_opinions"
    __table_args__ = (UniqueConstraint("subject_id", "indicator_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("years.id"), index=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"))
    indicator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("indicators.id"), index=True)
    department: Mapped[str] = mapped_column(String(200))
    opinion: Mapped[str] = mapped_column(Text)
    points: Mapped[Decimal] = mapped_column(PointsColumn)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
