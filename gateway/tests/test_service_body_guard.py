"""Services refuse an over-limit or unauthenticated body before reading it (shared.middleware.BodyGuard)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request

from shared.middleware import BodyGuard
from shared.testing import TokenMint


def guarded_app(mint: TokenMint, reads: list[int]) -> BodyGuard:
    app = FastAPI()
    verifier = mint.verifier()

    @app.post("/api/welfare/v1/things")
    async def things(request: Request) -> dict[str, object]:
        body = await request.body()
        reads.append(len(body))
        return {"size": len(body), "principal": request.state.principal.subject}

    return BodyGuard(app, max_bytes=4096, verifier=lambda: verifier)


async def test_bodies_without_a_valid_token_or_over_the_limit_are_never_read() -> None:
    mint = TokenMint()
    reads: list[int] = []
    app = guarded_app(mint, reads)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
        anonymous = await client.post("/api/welfare/v1/things", content=b"x" * 100)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        forged = await client.post(
            "/api/welfare/v1/things", content=b"x" * 100, headers={"Authorization": "Bearer not.a.token"}
        )
        assert forged.status_code == 401
        headers = mint.headers(subject="clerk")
        declared = await client.post("/api/welfare/v1/things", content=b"x" * 5000, headers=headers)
        assert declared.status_code == 413
        assert declared.headers["content-type"].startswith("application/problem+json")

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(8):
                yield b"y" * 1024

        chunked = await client.post("/api/welfare/v1/things", content=chunks(), headers=headers)
        assert chunked.status_code == 413
        assert reads == []  # the route never got a body
        fine = await client.post("/api/welfare/v1/things", content=b"z" * 100, headers=headers)
        assert fine.status_code == 200
        assert fine.json() == {"size": 100, "principal": "clerk"}
        assert reads == [100]
