"""Every table of the welfare schema, imported once so metadata and Alembic see them all."""

from welfare.payroll.models import LedgerEntry, PayrollRun
from welfare.recalculation.models import RecalculationRun
from welfare.register.models import Enrolment, Household, IncomeAssessment, Person
from welfare.standards.models import AddedStandardVersion

__all__ = [
    "AddedStandardVersion",
    "Enrolment",
    "Household",
    "IncomeAssessment",
    "LedgerEntry",
    "PayrollRun",
    "Person",
    "RecalculationRun",
]
