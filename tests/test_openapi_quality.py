"""What client generators rely on, for every operation of the merged OpenAPI document."""

from __future__ import annotations

from typing import Any

from platformctl.testing import Platform

METHODS = {"get", "post", "put", "patch", "delete"}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_every_operation_is_described_for_client_generators(platform: Platform) -> None:
    async with platform.client() as client:
        document = (await client.get("/openapi.json")).json()
    found = operations(document)
    assert len(found) > 40
    ids = [operation.get("operationId") for _, _, operation in found]
    assert all(ids), [f"{m} {p}" for p, m, o in found if not o.get("operationId")]
    assert len(ids) == len(set(ids))
    missing_summary = [f"{m.upper()} {p}" for p, m, o in found if not o.get("summary")]
    assert missing_summary == []
    for path, method, operation in found:
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), (method, path)
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                assert "application/problem+json" in response.get("content", {}), (method, path, code)
        if path.startswith("/api/"):
            assert {"401", "403"} <= set(responses), (method, path)
            assert operation.get("security"), (method, path)
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in responses, (method, path)
