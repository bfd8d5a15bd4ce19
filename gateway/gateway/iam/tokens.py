"""Issuing the platform's access tokens (short-lived EdDSA JWTs)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from gateway.iam.keys import KeyRing
from shared.errors import ProblemError


class SigningUnavailable(ProblemError):
    status = 503
    title = "Service unavailable"
    type_suffix = "signing-unavailable"


def issue_token(
    ring: KeyRing,
    *,
    issuer: str,
    audience: str,
    ttl_seconds: int,
    subject: str,
    roles: list[str],
    scopes: list[str],
    jurisdictions: list[str],
    units: list[str],
    client_id: str | None,
    name: str | None,
) -> str:
    if ring.active is None:
        raise SigningUnavailable("No signing key is active; an operator must create one.")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "scope": " ".join(sorted(set(scopes))),
        "roles": sorted(set(roles)),
        "jurisdictions": list(jurisdictions),
        "units": list(units),
        "client_id": client_id,
        "name": name,
    }
    return jwt.encode(claims, ring.active.private_key, algorithm="EdDSA", headers={"kid": ring.active.kid})
