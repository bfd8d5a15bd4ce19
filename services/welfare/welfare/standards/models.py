"""Standard versions added through the API (the pack files hold the published ones)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import DateTime, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from welfare.db import Base


class AddedStandardVersion(Base):
    """A new version or a correction, never an overwrite: the body is a checked
    ``StandardVersion``. Rows are never updated or deleted; the history is the pack's
    versions followed by these rows in the order they were recorded."""

    __tablename__ = "standard_versions"
    __table_args__ = (UniqueConstraint("version_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    jurisdiction: Mapped[str] = mapped_column(String(32), index=True)
    version_id: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    corrects: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list, server_default="{}")
    reason: Mapped[str | None] = mapped_column(Text)
    document_reference: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
