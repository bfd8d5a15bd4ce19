"""An appraisal year (考核年度) of a scheme, its subjects, their stage history, its indicators
and the publication of its rules."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from appraisal.db import Base
from shared.db import Versioned

PointsColumn = Numeric(16, 6)
"""Points and percentages: six decimals, as the API accepts them."""


class AppraisalYear(Versioned, Base):
    """考核年度: one scheme's year, 1 Jan – 31 Dec (Panjin art. 6, Zhumadian art. 5).

    ``scheme_version``: the version of the scheme the year is appraised under (the one in
    force on the year's last day when it was opened).
    ``ad_hoc_cap`` / ``deductions_cap``: the caps the year's 方案/细则 set where the scheme
    leaves them to the year. ``published_on``: the day the year's results were first
    published (结果通报), the day the carry-back (Panjin art. 9, Zhumadian art. 12) looks at.
    """

    __tablename__ = "years"
    __table_args__ = (UniqueConstraint("scheme", "year"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    scheme: Mapped[str] = mapped_column(String(64))
    scheme_version: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    year: Mapped[int] = mapped_column(SmallInteger)
    city: Mapped[str] = mapped_column(String(32))
    ad_hoc_cap: Mapped[Decimal | None] = mapped_column(PointsColumn)
    deductions_cap: Mapped[Decimal | None] = mapped_column(PointsColumn)
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    opened_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Subject(Versioned, Base):
    """考核对象: a county or district government, a zone's management committee or a member
    department of the food-safety committee, with its current stage of the procedure.

    ``jurisdiction``: the county's or zone's own code; the city's for a member department.
    ``published_on``: the day its result was last published (the rectification month runs
    from it). ``outstanding_note``: recorded when people find its results outstanding (成效突出).
    """

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("year_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("years.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str] = mapped_column(String(32))
    is_zone: Mapped[bool] = mapped_column(Boolean, default=False)
    ranked: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[str] = mapped_column(String(32))
    stage_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    outstanding_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Transition(Base):
    """One move of a subject's stage: who, when, why (append-only; the migration refuses
    UPDATE and DELETE). ``effective_on``: the day of the act (e.g. the publication notice)."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subjects.id"), index=True)
    from_stage: Mapped[str] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    reopening: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    effective_on: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Indicator(Base):
    """考核指标 of the year: a scored item of one content area (考核内容要点), its maximum
    points and the member department that scores it."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("year_id", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("years.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    content_area: Mapped[int] = mapped_column(SmallInteger)
    component: Mapped[str] = mapped_column(String(16))
    max_points: Mapped[Decimal] = mapped_column(PointsColumn)
    department: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RulesPublication(Base):
    """The publication of one of the year's documents (细则, 方案) the scheme requires."""

    __tablename__ = "rules_publications"
    __table_args__ = (UniqueConstraint("year_id", "document"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("years.id"), index=True)
    document: Mapped[str] = mapped_column(String(64))
    published_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
