"""If-None-Match → 304 for every read with an ETag (shared.concurrency.ConditionalGetMiddleware)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from shared.concurrency import ConditionalGetMiddleware, set_etag


def app() -> FastAPI:
    application = FastAPI()
    application.add_middleware(ConditionalGetMiddleware)

    @application.get("/records/{record_id}")
    async def read(record_id: str, response: Response) -> dict[str, str]:
        set_etag(response, record_id, 3)
        response.headers["Cache-Control"] = "private, no-cache"
        return {"id": record_id}

    @application.get("/streamed")
    async def streamed() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for part in (b"a" * 10, b"b" * 10):
                yield part

        return StreamingResponse(chunks(), headers={"ETag": '"s-v1"'})

    @application.get("/plain")
    async def plain() -> dict[str, str]:
        return {"etag": "none"}

    @application.post("/records/{record_id}")
    async def write(record_id: str, response: Response) -> dict[str, str]:
        set_etag(response, record_id, 4)
        return {"id": record_id}

    return application


def test_if_none_match_answers_304_only_for_a_current_etag() -> None:
    client = TestClient(app())
    current = client.get("/records/x").headers["ETag"]
    assert current == '"x-v3"'
    same = client.get("/records/x", headers={"If-None-Match": current})
    assert (same.status_code, same.content, same.headers["ETag"]) == (304, b"", current)
    assert same.headers["Cache-Control"] == "private, no-cache"
    assert "content-type" not in same.headers
    assert "content-length" not in same.headers or same.headers["content-length"] == "0"
    assert client.get("/records/x", headers={"If-None-Match": f'"y", W/{current}'}).status_code == 304
    assert client.get("/records/x", headers={"If-None-Match": "*"}).status_code == 304
    stale = client.get("/records/x", headers={"If-None-Match": '"x-v2"'})
    assert (stale.status_code, stale.json()) == (200, {"id": "x"})
    # a streamed body is dropped whole
    streamed = client.get("/streamed", headers={"If-None-Match": '"s-v1"'})
    assert (streamed.status_code, streamed.content) == (304, b"")
    assert client.get("/streamed").content == b"a" * 10 + b"b" * 10
    # no ETag, no 304; writes are never conditional GETs
    assert client.get("/plain", headers={"If-None-Match": "*"}).status_code == 200
    assert client.post("/records/x", headers={"If-None-Match": '"x-v4"'}).status_code == 200
