"""The gateway counts proxied requests per route template and status (not per raw path, not
only per service): the service names the route that answered in a header the gateway reads
and drops (shared.middleware.ROUTE_HEADER). Upstream errors, refusals and the client id in
access-log lines: gateway/tests/test_token_endpoint_and_limits.py."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from platformctl.testing import Platform

TEMPLATE = "/api/welfare/v1/households/{household_id}"


def count(metrics: str, route: str, status: str) -> float:
    wanted = {"service": "gateway", "method": "GET", "route": route, "status": status}
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels == wanted
    )


async def test_proxied_requests_are_counted_per_route_template_and_status(platform: Platform) -> None:
    gateway = next(child for child in platform.supervisor.children if child.name == "gateway")
    metrics_url = f"http://127.0.0.1:{gateway.metrics_port}/metrics"
    async with httpx.AsyncClient(timeout=10) as plain:
        before = await plain.get(metrics_url)
    async with platform.client(headers=await platform.admin_headers()) as client:
        answers = [await client.get(f"/api/welfare/v1/households/{uuid.uuid4()}") for _ in range(3)]
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert all("x-route-template" not in answer.headers for answer in answers)
    async with httpx.AsyncClient(timeout=10) as plain:
        after = (await plain.get(metrics_url)).text
    assert count(after, TEMPLATE, "404") - count(before.text, TEMPLATE, "404") == 3
    # no label per raw path: the household ids asked for are nowhere in the metrics
    assert not any(str(answer.url).rsplit("/", 1)[-1] in after for answer in answers)
