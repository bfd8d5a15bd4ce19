"""Token signing keys (Ed25519, EdDSA): generated, published as JWKS, rotated.

The newest key that is not retired signs; every key not yet past its retirement time
stays published so tokens it signed remain verifiable until they expire.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.iam.models import SigningKey


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    private_key: Ed25519PrivateKey


def new_signing_key() -> SigningKey:
    private_key = Ed25519PrivateKey.generate()
    kid = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)
    public_jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(private_key.public_key()))
    public_jwk.update({"kid": kid, "use": "sig", "alg": "EdDSA"})
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningKey(kid=kid, algorithm="EdDSA", private_key_pem=pem, public_jwk=public_jwk)


async def rotate(session: AsyncSession, *, overlap: dt.timedelta) -> SigningKey:
    """Add a new signing key; earlier keys stay published for ``overlap`` more."""
    key, _ = await rotate_retiring(session, overlap=overlap)
    return key


async def rotate_retiring(session: AsyncSession, *, overlap: dt.timedelta) -> tuple[SigningKey, list[str]]:
    """:func:`rotate`, answering also the ids of the keys it retires (for the audit row)."""
    now = dt.datetime.now(dt.UTC)
    retired = await session.scalars(
        update(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .values(retired_at=now + overlap)
        .returning(SigningKey.kid)
    )
    retiring = sorted(retired)
    key = new_signing_key()
    session.add(key)
    await session.flush()
    return key, retiring


async def all_keys(session: AsyncSession) -> list[SigningKey]:
    """Every signing key, newest first (the published, the retiring and the retired)."""
    return list(await session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc())))


async def ensure_signing_key(session: AsyncSession) -> None:
    exists = await session.scalar(select(SigningKey.kid).where(SigningKey.retired_at.is_(None)).limit(1))
    if exists is None:
        session.add(new_signing_key())
        await session.flush()


class KeyRing:
    """The keys as last read from the database; reloaded on a timer and after rotation."""

    def __init__(self) -> None:
        self.active: ActiveKey | None = None
        self.published: list[dict[str, Any]] = []

    async def load(self, session: AsyncSession) -> None:
        now = dt.datetime.now(dt.UTC)
        rows = (
            await session.scalars(
                select(SigningKey)
                .where((SigningKey.retired_at.is_(None)) | (SigningKey.retired_at > now))
                .order_by(SigningKey.created_at.desc(), SigningKey.kid.desc())
            )
        ).all()
        self.published = [row.public_jwk for row in rows]
        signer = next((row for row in rows if row.retired_at is None), None)
        if signer is None:
            self.active = None
            return
        private_key = serialization.load_pem_private_key(signer.private_key_pem.encode(), None)
        assert isinstance(private_key, Ed25519PrivateKey)
        self.active = ActiveKey(kid=signer.kid, private_key=private_key)

    def jwks(self) -> dict[str, Any]:
        return {"keys": self.published}
