"""The register of elderly persons (老年人信息台账) and their assessed circumstances, as versions."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from eldercare.db import Base
from shared.db import Versioned
from shared.personal_data import CitizenIdColumns


class Person(CitizenIdColumns, Versioned, Base):
    """A registered person; the citizen ID number is kept encrypted, with a keyed hash for look-ups.

    ``left_on``: the day the person left the register (death, moved away); nothing is deleted.
    """

    __tablename__ = "persons"
    __table_args__ = (Index("ix_persons_jurisdiction_birth_date", "jurisdiction", "birth_date"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(8))
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    left_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Circumstances(Base):
    """老年人基本情况: a dated version of a person's assessed circumstances (the profile fields).

    A version is in force from ``effective_from`` until ``superseded_from`` (the next
    version's first day; NULL for the latest), so "the version in force on a day" is a
    range join, not a per-row subquery.
    """

    __tablename__ = "circumstances"
    __table_args__ = (
        UniqueConstraint("person_id", "effective_from"),
        CheckConstraint("ability_level IS NULL OR ability_level BETWEEN 0 AND 4", name="ability_level_range"),
        CheckConstraint(
            "disability_grade IS NULL OR disability_grade BETWEEN 1 AND 4", name="disability_grade_range"
        ),
        CheckConstraint(
            "superseded_from IS NULL OR superseded_from > effective_from", name="versions_in_order"
        ),
        # the grade is printed on the 残疾人证
        CheckConstraint(
            "disability_grade IS NULL OR has_disability_certificate", name="grade_needs_certificate"
        ),
        Index("ix_circumstances_effective_from", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    superseded_from: Mapped[dt.date | None] = mapped_column(Date)
    pension_age_reached: Mapped[bool] = mapped_column(Boolean, default=False)
    pension_scheme: Mapped[str | None] = mapped_column(String(16))
    ability_level: Mapped[int | None] = mapped_column(SmallInteger)
    self_care_unable: Mapped[bool] = mapped_column(Boolean, default=False)
    has_disability_certificate: Mapped[bool] = mapped_column(Boolean, default=False)
    disability_grade: Mapped[int | None] = mapped_column(SmallInteger)
    needs_long_term_care: Mapped[bool] = mapped_column(Boolean, default=False)
    dibao: Mapped[bool] = mapped_column(Boolean, default=False)
    tekun: Mapped[str | None] = mapped_column(String(16))
    low_income_edge: Mapped[bool] = mapped_column(Boolean, default=False)
    expenditure_hardship: Mapped[bool] = mapped_column(Boolean, default=False)
    relapsed_into_poverty: Mapped[bool] = mapped_column(Boolean, default=False)
    at_risk_of_relapse: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    still_in_hardship: Mapped[bool] = mapped_column(Boolean, default=False)
    living_arrangement: Mapped[str | None] = mapped_column(String(16))
    family_planning_special: Mapped[str | None] = mapped_column(String(16))
    special_contribution_group: Mapped[bool] = mapped_column(Boolean, default=False)
    has_able_supporter: Mapped[bool] = mapped_column(Boolean, default=False)
    homeless: Mapped[bool] = mapped_column(Boolean, default=False)
    usual_resident: Mapped[bool | None] = mapped_column(Boolean)
    reference: Mapped[str | None] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
