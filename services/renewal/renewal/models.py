"""Every table of the renewal schema, imported once so metadata and Alembic see them all."""

from renewal.reports.models import LeaderAbsence, ProgressReport, ReportingDuty

__all__ = ["LeaderAbsence", "ProgressReport", "ReportingDuty"]
