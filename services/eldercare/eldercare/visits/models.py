"""Visits (探访关爱) recorded for registered persons."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from eldercare.db import Base


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_person_id_visited_on", "person_id", "visited_on"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    jurisdiction: Mapped[str] = mapped_column(String(32), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(16))
    visitor: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
