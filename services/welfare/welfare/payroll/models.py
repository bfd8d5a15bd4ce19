"""The append-only ledger of payments, and the payroll runs that write its regular entries."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.jobs import JobRecord, job_constraints
from welfare.db import Base


class PayrollRun(JobRecord, Base):
    """A payroll run of (jurisdiction, month), answered within its request.

    A month may have several runs: a later one pays the enrolments that joined (or got a
    standard) after the earlier ones; ``already_paid`` counts those it found paid.
    """

    __tablename__ = "payroll_runs"
    __table_args__ = (
        *job_constraints(),
        Index("ix_payroll_runs_jurisdiction_month", "jurisdiction", "month"),
    )

    month: Mapped[dt.date] = mapped_column(Date)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    unpriced: Mapped[int] = mapped_column(Integer, default=0)
    already_paid: Mapped[int] = mapped_column(Integer, default=0)


class LedgerEntry(Base):
    """A payment: ``regular`` (payroll), ``arrears`` (补发, recalculation), ``correction``, or
    ``overpayment``: a negative difference a recalculation found, marked ``review = 'pending'``
    for staff; nothing deducts it from a later payment without a recorded decision.

    Never updated or deleted (a trigger refuses it); a correction is a new entry that
    references the entry it corrects and the run that produced it.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('regular', 'arrears', 'correction', 'overpayment')", name="known_kind"),
        CheckConstraint("(kind = 'overpayment') = (review IS NOT NULL)", name="overpayments_reviewed"),
        Index(
            "uq_ledger_entries_regular_once",
            "enrolment_id",
            "month",
            unique=True,
            postgresql_where=text("kind = 'regular'"),
        ),
        Index("ix_ledger_entries_jurisdiction_month", "jurisdiction", "month"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"))
    jurisdiction: Mapped[str] = mapped_column(String(32))
    month: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    corrects_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    payroll_run_id: Mapped[uuid.UUID | None] = mapped_column()
    recalculation_id: Mapped[uuid.UUID | None] = mapped_column()
    review: Mapped[str | None] = mapped_column(String(16))
    residence: Mapped[str | None] = mapped_column(
        String(5), comment="the residence whose standard priced the entry; NULL where the standard is one"
    )
    note: Mapped[str | None] = mapped_column(Text, comment="why a correction was booked")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
