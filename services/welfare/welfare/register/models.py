"""The register: households, persons, enrolments in a program, assessed-income versions."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Versioned
from shared.personal_data import CitizenIdColumns
from welfare.db import Base


class Timestamps:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Household(Timestamps, Versioned, Base):
    __tablename__ = "households"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jurisdiction: Mapped[str] = mapped_column(String(32), index=True)
    address: Mapped[str] = mapped_column(Text)


class HouseholdResidence(Base):
    """The household's residence (urban 城市 / rural 农村) from a month: where a city sets urban
    and rural standards apart, it selects the one that prices the household's months (and its
    members' tekun and orphan allowances).

    Dated like the assessed incomes: ``effective_month`` is the first month it holds (NULL: the
    residence recorded first, which holds for every month before a later one), and
    ``superseded_from`` the month the next one takes effect (NULL for the latest), so the
    residence of a month is a range join.
    """

    __tablename__ = "household_residences"
    __table_args__ = (
        UniqueConstraint("household_id", "effective_month"),
        Index(
            "uq_household_residences_first",
            "household_id",
            unique=True,
            postgresql_where=text("effective_month IS NULL"),
        ),
        CheckConstraint("residence IN ('urban', 'rural')", name="known_residence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"), index=True)
    effective_month: Mapped[dt.date | None] = mapped_column(Date)
    superseded_from: Mapped[dt.date | None] = mapped_column(Date)
    residence: Mapped[str] = mapped_column(String(5))
    reference: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Person(Timestamps, CitizenIdColumns, Versioned, Base):
    """A person; the citizen ID number is kept encrypted, with a keyed hash for look-ups."""

    __tablename__ = "persons"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jurisdiction: Mapped[str] = mapped_column(String(32), index=True)
    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)


class Enrolment(Timestamps, Versioned, Base):
    """A household (dibao) or a person (other programs) in a program from a month."""

    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint("(household_id IS NULL) <> (person_id IS NULL)", name="one_beneficiary"),
        CheckConstraint("end_month IS NULL OR end_month >= start_month", name="months_in_order"),
        CheckConstraint("tier IS NULL OR tier BETWEEN 1 AND 4", name="tier_range"),
        CheckConstraint("covered_members IS NULL OR covered_members >= 1", name="covered_members_positive"),
        CheckConstraint(
            "arrangement IS NULL OR (program = 'tekun' AND arrangement IN ('scattered', 'concentrated'))",
            name="tekun_arrangement",
        ),
        Index("ix_enrolments_jurisdiction_status", "jurisdiction", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    program: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(32))
    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("households.id"), index=True)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"), index=True)
    covered_members: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[int | None] = mapped_column(Integer)
    arrangement: Mapped[str | None] = mapped_column(
        String(16), comment="tekun: scattered (分散供养) or concentrated (集中供养)"
    )
    start_month: Mapped[dt.date] = mapped_column(Date)
    end_month: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    decision_by: Mapped[str] = mapped_column(String(200))
    decision_on: Mapped[dt.date] = mapped_column(Date)
    decision_reference: Mapped[str] = mapped_column(String(200))


class EnrolmentSuspension(Base):
    """A suspension (暂停) of an enrolment: no month from ``from_month`` up to the month before
    ``resumed_month`` (NULL: not resumed yet) is paid, even when the payroll of such a month is
    asked for after the enrolment was resumed. Months already paid in it are booked back as
    overpayments for staff review by the recalculation the suspension starts."""

    __tablename__ = "enrolment_suspensions"
    __table_args__ = (
        CheckConstraint("resumed_month IS NULL OR resumed_month >= from_month", name="resumed_after_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"), index=True)
    from_month: Mapped[dt.date] = mapped_column(Date)
    resumed_month: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IncomeAssessment(Base):
    """核定家庭月人均收入: a version of the household's assessed monthly income per person.

    ``superseded_from`` is the month the next version takes effect (NULL for the latest),
    so the income in force in a month is a range join, not a per-row subquery.
    """

    __tablename__ = "income_assessments"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "effective_month"),
        CheckConstraint("per_capita_income >= 0", name="income_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    enrolment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enrolments.id"))
    effective_month: Mapped[dt.date] = mapped_column(Date)
    superseded_from: Mapped[dt.date | None] = mapped_column(Date)
    per_capita_income: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
