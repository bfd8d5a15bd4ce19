"""Every table of the renewal schema, imported once so metadata and Alembic see them all."""

from renewal.duties.models import ReportingDuty
from renewal.leader_absences.models import LeaderAbsence
from renewal.reports.models import ProgressReport

__all__ = ["LeaderAbsence", "ProgressReport", "ReportingDuty"]
