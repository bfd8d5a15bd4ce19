"""Progress reports (进展报告): one row per version; a correction is a new version."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from renewal.db import Base
from renewal.duties.periods import period_last_day
from shared.db import Versioned
from shared.months import POLICY_TZ


class ProgressReport(Versioned, Base):
    """One revision of a unit's report on a task for a period; a correction is a new revision.

    ``revision`` numbers the report's revisions (1, 2, …; the API calls it the report's
    ``version``); ``version`` is the row's own version for compare-and-set and the ETag (the
    API's ``row_version``), raised by each review.
    """

    __tablename__ = "progress_reports"
    __table_args__ = (UniqueConstraint("plan_id", "task_number", "unit", "period", "revision"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[str] = mapped_column(String(100), index=True)
    task_number: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(7))
    revision: Mapped[int] = mapped_column(Integer)
    narrative: Mapped[str] = mapped_column(Text)
    indicator_values: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    evidence_links: Mapped[list[str]] = mapped_column(JSONB, default=list)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    review_status: Mapped[str] = mapped_column(String(16), default="submitted")
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    review_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def early(self) -> bool:
        """Filed before its period ended (on or before the period's last day, Asia/Shanghai):
        kept, and counted toward on-time rates only once the period has ended."""
        return self.submitted_at.astimezone(POLICY_TZ).date() <= period_last_day(self.period)
