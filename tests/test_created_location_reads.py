"""Every service's ``Location`` derivation reads its routing table (shared.created.reads), not
its OpenAPI document: the two must agree on every GET operation of every service."""

from __future__ import annotations

import pytest

from shared.created import reads
from shared.testing import ServiceInProcess


@pytest.mark.parametrize("name", ["welfare", "eldercare", "appraisal", "renewal"])
async def test_the_routing_table_gives_the_reads_of_the_openapi_document(
    services_in_process: dict[str, ServiceInProcess], name: str
) -> None:
    app = services_in_process[name].app
    in_openapi = {
        path: any(p["in"] == "query" and p.get("required") for p in item["get"].get("parameters", []))
        for path, item in app.openapi()["paths"].items()
        if "get" in item
    }
    assert reads(app) == in_openapi
