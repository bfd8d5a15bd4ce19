"""What client generators rely on, for every operation of the merged OpenAPI document."""

from __future__ import annotations

import json
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


async def test_create_operations_link_to_the_reads_of_what_they_made(platform: Platform) -> None:
    async with platform.client() as client:
        document = (await client.get("/openapi.json")).json()
    ids = {operation["operationId"] for _, _, operation in operations(document)}
    links = {
        (f"{method.upper()} {path}", link["operationId"]): link
        for path, method, operation in operations(document)
        for answer in operation["responses"].values()
        for link in answer.get("links", {}).values()
    }
    assert links[("POST /api/welfare/v1/households", "welfare-register-read_household")]["parameters"] == {
        "household_id": "$response.body#/id"
    }
    assert links[("POST /api/appraisal/v1/years", "appraisal-years-read_year")]["parameters"] == {
        "year": "$response.body#/year"
    }
    assert ("POST /api/eldercare/v1/persons", "eldercare-register-read_person") in links
    assert len(links) >= 20
    assert all(link["operationId"] in ids for link in links.values())


async def test_the_document_tells_servers_tags_public_operations_headers_and_no_unused_schema(
    platform: Platform,
) -> None:
    async with platform.client() as client:
        document = (await client.get("/openapi.json")).json()
    assert document["servers"] == [{"url": "/", "description": "This gateway (every service behind it)"}]
    declared_tags = {tag["name"] for tag in document["tags"]}
    assert all(tag.get("description") for tag in document["tags"])
    found = operations(document)
    for path, method, operation in found:
        assert operation.get("description"), (method, path)
        assert set(operation["tags"]) <= declared_tags, (method, path)
        if path.startswith("/api/"):
            service = path.split("/")[2]
            assert all(tag.startswith(f"{service}: ") for tag in operation["tags"]), (method, path)
            assert operation["security"] == [{"bearer": []}, {"oauth2": []}]
        for status, answer in operation["responses"].items():
            assert "X-Request-ID" in answer["headers"], (method, path, status)
            if status == "201":
                assert "Location" in answer["headers"], (method, path)
    by_path = {(path, method): operation for path, method, operation in found}
    for public in ("/auth/token", "/.well-known/jwks.json", "/healthz"):
        assert by_path[(public, "get" if public != "/auth/token" else "post")]["security"] == []
    # reads of records changed with If-Match declare If-None-Match and their 304
    read = by_path[("/api/welfare/v1/households/{household_id}", "get")]
    assert "If-None-Match" in {p["name"] for p in read["parameters"]}
    assert "ETag" in read["responses"]["200"]["headers"]
    assert "304" in read["responses"]
    assert (
        "ETag"
        in by_path[("/api/welfare/v1/households/{household_id}", "patch")]["responses"]["200"]["headers"]
    )
    # the audit logs of four services are four tags, not one
    audit_tags = {
        tag for path, _, operation in found if path.endswith("/audit-log") for tag in operation["tags"]
    }
    assert len(audit_tags) == 4
    text = json.dumps(document)
    unused = [
        name for name in document["components"]["schemas"] if f'"#/components/schemas/{name}"' not in text
    ]
    assert unused == []
