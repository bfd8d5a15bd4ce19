"""The comprehensive evaluation (综合评议): bonuses and deductions, downgrade and veto
circumstances, incidents (with the carry-back), computed results and published results."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from appraisal.db import Base
from appraisal.years.models import PointsColumn


class Adjustment(Base):
    """加分项 or 减分项 points for a subject; ``provincial``: points the province gave or took
    from the city that concern this subject (counted double where the scheme says so)."""

    __tablename__ = "adjustments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    component: Mapped[str] = mapped_column(String(16))
    points: Mapped[Decimal] = mapped_column(PointsColumn)
    provincial: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CircumstanceFinding(Base):
    """A downgrade (降级) or veto (否决) circumstance of the scheme's catalogue found for a
    subject, with the evidence (text and evidence files of the subject)."""

    __tablename__ = "circumstance_findings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    circumstance: Mapped[str] = mapped_column(String(64))
    effect: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text)
    evidence_files: Mapped[list[str]] = mapped_column(JSONB, default=list)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Incident(Base):
    """食品安全事件 in a subject's area and the appraisal year it counts against.

    ``counted_year`` is the incident's own year, or the year before when it happened
    before that year's results were published (carry-back: Panjin art. 9, Zhumadian art. 12).
    It takes effect as a deduction (``points``) or as a catalogue circumstance.
    """

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_scheme_counted_year", "scheme", "counted_year"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    scheme: Mapped[str] = mapped_column(String(64))
    subject_code: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    effect: Mapped[str] = mapped_column(String(16))
    points: Mapped[Decimal | None] = mapped_column(PointsColumn)
    circumstance: Mapped[str | None] = mapped_column(String(64))
    counted_year: Mapped[int] = mapped_column(SmallInteger)
    carried_back: Mapped[bool] = mapped_column(Boolean)
    attribution: Mapped[str] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Result(Base):
    """The result the last comprehensive evaluation computed for a subject (overwritten by the
    next computation while the subject is at that stage; frozen once published)."""

    __tablename__ = "results"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), unique=True)
    base: Mapped[Decimal] = mapped_column(PointsColumn)
    ad_hoc: Mapped[Decimal] = mapped_column(PointsColumn)
    bonus: Mapped[Decimal] = mapped_column(PointsColumn)
    provincial_bonus: Mapped[Decimal] = mapped_column(PointsColumn)
    deductions: Mapped[Decimal] = mapped_column(PointsColumn)
    provincial_deduction: Mapped[Decimal] = mapped_column(PointsColumn)
    downgrades: Mapped[int] = mapped_column(SmallInteger)
    veto: Mapped[bool] = mapped_column(Boolean)
    total: Mapped[Decimal] = mapped_column(PointsColumn)
    rank: Mapped[int | None] = mapped_column(SmallInteger)
    grade: Mapped[str | None] = mapped_column(String(1))
    applied: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    computed_by: Mapped[str] = mapped_column(String(200))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PublishedResult(Base):
    """A result as published (结果通报), kept for every publication: the history that the
    three-years-running and rank-change rules read (append-only)."""

    __tablename__ = "published_results"
    __table_args__ = (Index("ix_published_results_scheme_year", "scheme", "year"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(SmallInteger)
    subject_code: Mapped[str] = mapped_column(String(64))
    base: Mapped[Decimal] = mapped_column(PointsColumn)
    ad_hoc: Mapped[Decimal] = mapped_column(PointsColumn)
    bonus: Mapped[Decimal] = mapped_column(PointsColumn)
    provincial_bonus: Mapped[Decimal] = mapped_column(PointsColumn)
    deductions: Mapped[Decimal] = mapped_column(PointsColumn)
    provincial_deduction: Mapped[Decimal] = mapped_column(PointsColumn)
    downgrades: Mapped[int] = mapped_column(SmallInteger)
    veto: Mapped[bool] = mapped_column(Boolean)
    total: Mapped[Decimal] = mapped_column(PointsColumn)
    rank: Mapped[int | None] = mapped_column(SmallInteger)
    grade: Mapped[str | None] = mapped_column(String(1))
    applied: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    published_on: Mapped[dt.date] = mapped_column(Date)
    published_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    publication: Mapped[int] = mapped_column(Integer, default=1)
    """1 for the first publication, 2 after a reopening, ..."""
