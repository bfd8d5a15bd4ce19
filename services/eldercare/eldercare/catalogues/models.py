"""County catalogue overrides (县区清单), kept as versions: every save is a new row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from eldercare.db import Base


class CatalogueOverrideVersion(Base):
    __tablename__ = "catalogue_overrides"
    __table_args__ = (UniqueConstraint("jurisdiction", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
