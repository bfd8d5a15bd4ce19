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
    not_before: int | None = None,
) -> str:
    """A signed token. ``not_before``: the holder's revocation instant (epoch seconds); the
    token's ``iat`` is never earlier, so a token issued right after a revocation in the same
    second is not taken for one of the revoked."""
    if ring.active is None:
        raise SigningUnavailable("No signing key is active; an operator must create one.")
    now = max(int(time.time()), not_before or 0)
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
