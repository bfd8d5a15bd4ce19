"""Every table of the eldercare schema, imported once so metadata and Alembic see them all."""

from eldercare.catalogues.models import CatalogueOverrideVersion
from eldercare.projection.models import WelfareEnrolment, WelfareEventSeen, WelfareFeed, WelfarePerson
from eldercare.register.models import Circumstances, Person
from eldercare.snapshots.models import EntitlementSnapshot, SnapshotRun
from eldercare.visits.models import Visit

__all__ = [
    "CatalogueOverrideVersion",
    "Circumstances",
    "EntitlementSnapshot",
    "Person",
    "SnapshotRun",
    "Visit",
    "WelfareEnrolment",
    "WelfareEventSeen",
    "WelfareFeed",
    "WelfarePerson",
]
