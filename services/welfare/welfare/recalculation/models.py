"""Recalculation runs: a background job per (jurisdiction, from month) with progress and counts."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
)
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
    overpayments: Mapped[int] = mapped_column(Integer, default=0)
    overpayment_total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    unpriced: Mapped[int] = mapped_column(Integer, default=0)
    completed_batches: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)


class UnpricedMonth(Base):
    """An enrolment-month a run stopped: no standard prices it (never booked as a negative
    "arrears" of the whole amount); listed with its reason in the run's report."""

    __tablename__ = "recalculation_unpriced"

    recalculation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recalculation_runs.id"), primary_key=True)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    program: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)


class OverpaymentDecision(Base):
    """Staff's recorded decision on an overpayment a recalculation booked (recover or waive),
    with the reason and the document; one per overpayment, never changed. Until it exists the
    overpayment is pending review, and nothing deducts it from a later payment; a decision to
    recover is carried out by the offices (the service pays in full either way)."""

    __tablename__ = "overpayment_decisions"
    __table_args__ = (CheckConstraint("decision IN ('recover', 'waive')", name="known_decision"),)

    entry_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_entries.id"), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    document_reference: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
