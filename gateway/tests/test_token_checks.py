"""Token checks every service runs (shared.auth): unknown kids and the revocation list."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from shared.auth import RevocationList, TokenVerifier, subject_digest
from shared.errors import Unauthorized
from shared.testing import AUDIENCE, ISSUER, TokenMint


class CountingJwks:
    def __init__(self, mint: TokenMint) -> None:
        self.mint = mint
        self.fetches = 0

    async def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        await asyncio.sleep(0.05)
        return self.mint.jwks()


async def outcome(verifier: TokenVerifier, token: str) -> str:
    try:
        await verifier.verify(token)
    except Unauthorized as exc:
        return exc.detail
    return "ok"


async def test_unknown_kids_share_one_fetch_and_never_queue() -> None:
    mint = TokenMint()
    jwks = CountingJwks(mint)
    verifier = TokenVerifier(jwks, issuer=ISSUER, audience=AUDIENCE, refresh_min_seconds=1.0)
    assert await outcome(verifier, mint.token(scopes=["welfare:read"])) == "ok"
    forged = [mint.token(kid=f"made-up-{n}") for n in range(8)]
    # queued one interval each, 8 requests would take 8 s; sharing one fetch, at most one interval
    answers = await asyncio.wait_for(asyncio.gather(*(outcome(verifier, t) for t in forged)), timeout=3)
    assert answers == ["The token was signed with an unknown key."] * 8
    assert jwks.fetches <= 2
    # known kids are not held meanwhile
    assert await asyncio.wait_for(outcome(verifier, mint.token()), timeout=0.5) == "ok"


async def test_a_rotated_key_is_fetched_once_for_a_burst() -> None:
    old, new = TokenMint(kid="old"), TokenMint(kid="new")
    jwks = CountingJwks(old)
    verifier = TokenVerifier(jwks, issuer=ISSUER, audience=AUDIENCE, refresh_min_seconds=0.2)
    assert await outcome(verifier, old.token()) == "ok"
    jwks.mint = new  # the gateway rotated
    answers = await asyncio.gather(*(outcome(verifier, new.token()) for _ in range(8)))
    assert answers == ["ok"] * 8
    assert jwks.fetches == 2


async def test_revoked_subjects_are_refused_by_iat() -> None:
    mint = TokenMint()
    published: dict[str, float] = {}

    async def feed() -> dict[str, Any]:
        return {"not_before": dict(published)}

    revocations = RevocationList(feed, max_age_seconds=0.2)
    verifier = TokenVerifier(
        mint.verifier()._fetch_jwks, issuer=ISSUER, audience=AUDIENCE, revocations=revocations
    )
    old = mint.token(subject="clerk")
    other = mint.token(subject="colleague")
    assert await outcome(verifier, old) == "ok"
    published[subject_digest("clerk")] = time.time() + 1
    await asyncio.sleep(0.25)
    assert "revoked" in await outcome(verifier, old)  # cached as verified, refused all the same
    assert await outcome(verifier, other) == "ok"


async def test_an_unreachable_revocation_list_does_not_hold_requests() -> None:
    mint = TokenMint()
    calls = 0

    async def down() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        raise OSError("connection refused")

    verifier = TokenVerifier(
        mint.verifier()._fetch_jwks,
        issuer=ISSUER,
        audience=AUDIENCE,
        revocations=RevocationList(down, max_age_seconds=2.0),
    )
    token = mint.token()
    answers = await asyncio.wait_for(
        asyncio.gather(*(outcome(verifier, token) for _ in range(20))), timeout=2
    )
    assert answers == ["ok"] * 20
    assert calls == 1


@pytest.mark.parametrize("document", [{}, {"not_before": None}, {"not_before": {"x": "soon"}}, []])
async def test_a_malformed_revocation_list_keeps_the_last(document: Any) -> None:
    published: list[Any] = [{"not_before": {subject_digest("clerk"): time.time() + 60}}]

    async def feed() -> Any:
        return published[-1]

    revocations = RevocationList(feed, max_age_seconds=0.01)
    await revocations.ensure_fresh()
    await asyncio.sleep(0.05)
    assert revocations.revoked("clerk", time.time())
    published.append(document)
    await revocations.ensure_fresh()
    await asyncio.sleep(0.05)
    assert revocations.revoked("clerk", time.time())
