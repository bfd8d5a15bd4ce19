"""The scopes a token can carry, and the jurisdiction codes accounts may be given."""

from __future__ import annotations

from gateway.config import SERVICE_NAMES
from shared.auth import ALL_JURISDICTIONS
from shared.jurisdictions import registry

IAM_ADMIN = "iam:admin"
PII_SERVICES = ("welfare", "eldercare")

KNOWN_SCOPES: frozenset[str] = frozenset(
    [f"{service}:{level}" for service in SERVICE_NAMES for level in ("read", "write", "admin")]
    + [f"{service}:pii" for service in PII_SERVICES]
    + [f"{service}:audit" for service in PII_SERVICES]
    + [IAM_ADMIN]
)
"""``{service}:read|write|admin``; ``{service}:pii`` sees unmasked citizen ID numbers;
``{service}:audit`` reads who saw which number in full (``GET …/personal-data-access``);
``iam:admin`` manages accounts, clients and keys."""


def unknown_scopes(scopes: list[str]) -> list[str]:
    return [scope for scope in scopes if scope not in KNOWN_SCOPES]


def unknown_jurisdictions(codes: list[str]) -> list[str]:
    return [code for code in codes if code != ALL_JURISDICTIONS and code not in registry()]
