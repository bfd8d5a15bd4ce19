"""Lists across the platform: one envelope, declared sort values, no silently ignored query
parameters, keyset pages on the tables that grow without bound."""

from __future__ import annotations

import re
import uuid
from typing import Any

from platformctl.testing import Platform, assert_problem

METHODS = ("get", "post", "put", "patch", "delete")
UNKNOWN = "colour"


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


async def merged_document(platform: Platform) -> dict[str, Any]:
    async with platform.client() as client:
        document: dict[str, Any] = (await client.get("/openapi.json")).json()
    assert "x-unavailable-services" not in document
    return document


async def test_every_list_answer_is_an_object_with_items(platform: Platform) -> None:
    document = await merged_document(platform)
    bare, lists = [], 0
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if not status.startswith("2") or schema is None:
                    continue
                schema = resolve(document, schema)
                if schema.get("type") == "array" and method == "get":
                    bare.append(f"GET {path}")
                properties = set(schema.get("properties", {}))
                if "items" in properties and properties <= {
                    "items",
                    "total",
                    "limit",
                    "offset",
                    "next_cursor",
                }:
                    lists += 1
                    assert "total" in properties or "next_cursor" in properties, (method, path)
    assert bare == []
    assert lists > 20


async def test_unknown_query_parameters_are_422_naming_them_on_every_operation(platform: Platform) -> None:
    document = await merged_document(platform)
    checked = []
    async with platform.client(headers=await platform.admin_headers()) as client:
        for template, item in document["paths"].items():
            path = re.sub(r"{[^}]+}", "1", template)
            for method in METHODS:
                if method not in item:
                    continue
                response = await client.request(method.upper(), path, params={UNKNOWN: "red", "limit": "5"})
                declared = {p["name"] for p in item[method].get("parameters", []) if p["in"] == "query"}
                body = assert_problem(response, 422)
                fields = {error["field"] for error in body["errors"]}
                assert f"query.{UNKNOWN}" in fields, (method, template, body)
                assert ("query.limit" in fields) == ("limit" not in declared), (method, template, body)
                checked.append((method, template))
    assert len(checked) > 50


async def test_sort_takes_declared_values_only(platform: Platform) -> None:
    async with platform.client(headers=await platform.admin_headers()) as client:
        for address in ("中山路 3 号", "中山路 4 号"):
            created = await client.post(
                "/api/welfare/v1/households", json={"jurisdiction": "211102", "address": address}
            )
            assert created.status_code == 201, created.text
        newest = (await client.get("/api/welfare/v1/audit-log", params={"limit": 200})).json()["items"]
        oldest = (
            await client.get("/api/welfare/v1/audit-log", params={"sort": "occurred_at", "limit": 200})
        ).json()["items"]
        assert [r["id"] for r in newest] == sorted((r["id"] for r in newest), reverse=True)
        assert [r["id"] for r in oldest] == sorted(r["id"] for r in oldest)
        wrong = assert_problem(await client.get("/api/welfare/v1/audit-log", params={"sort": "actor"}), 422)
        assert wrong["errors"][0]["field"] == "query.sort"
        assert "occurred_at" in wrong["errors"][0]["message"]


async def test_keyset_pages_walk_the_audit_log_once_each(platform: Platform) -> None:
    marker = uuid.uuid4().hex[:8]
    async with platform.client(headers=await platform.admin_headers()) as client:
        for number in range(5):
            created = await client.post(
                "/api/welfare/v1/households",
                json={"jurisdiction": "211102", "address": f"游标路 {marker} {number} 号"},
            )
            assert created.status_code == 201, created.text
        everything = (
            await client.get("/api/welfare/v1/audit-log", params={"limit": 200, "entity": "household"})
        ).json()
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "entity": "household"}
            if cursor is not None:
                params["cursor"] = cursor
            response = await client.get("/api/welfare/v1/audit-log/by-cursor", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert set(page) == {"items", "next_cursor"}
            assert len(page["items"]) <= 2
            seen += [record["id"] for record in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None or len(seen) >= 200:
                break
        expected = [record["id"] for record in everything["items"]]
        assert seen[: len(expected)] == expected
        assert len(seen) == len(set(seen))
        for bad in ("not-a-cursor", "a2U6LTE", "MTIz"):
            problem = assert_problem(
                await client.get("/api/welfare/v1/audit-log/by-cursor", params={"cursor": bad}), 422
            )
            assert problem["errors"][0]["field"] == "query.cursor"
        ledger = await client.get("/api/welfare/v1/ledger/by-cursor", params={"limit": 3, "kind": "regular"})
        assert ledger.status_code == 200, ledger.text
        assert set(ledger.json()) == {"items", "next_cursor"}
        assert_problem(await client.get("/api/welfare/v1/ledger/by-cursor", params={"cursor": "MTIz"}), 422)
