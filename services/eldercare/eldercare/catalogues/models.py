"""County catalogue overrides (县区清单), kept as dated versions: every save is a new row.

A row is never rewritten: the days each version is in force follow from the versions'
stated ranges replayed in the order they were recorded (:mod:`eldercare.catalogues.history`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, Date, DateTime, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from eldercare.db import Base


class CatalogueOverrideVersion(Base):
    __tablename__ = "catalogue_overrides"
    __table_args__ = (
        UniqueConstraint("jurisdiction", "version"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
        CheckConstraint(
            "cardinality(corrects) = 0 OR "
            "(correction_reason IS NOT NULL AND correction_reference IS NOT NULL)",
            name="correction_explained",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    corrects: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list, server_default="{}")
    correction_reason: Mapped[str | None] = mapped_column(Text)
    correction_reference: Mapped[str | None] = mapped_column(String(400))
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
