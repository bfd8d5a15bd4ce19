"""W3C trace context: taken or started at the gateway, carried to the services and from
eldercare to welfare, named in X-Trace-ID and in log lines, exported only when asked."""

from __future__ import annotations

import asyncio
import http.server
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, Platform, own_platform
from shared.logs import JsonFormatter

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def traceparent() -> tuple[str, str]:
    trace_id = secrets.token_hex(16)
    return trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01"


@pytest.fixture
def plain_httpx() -> None:
    """This process's httpx as a caller outside the platform sends it: an in-process service app
    of an earlier test instruments httpx here, and its client spans would replace the header."""
    instrumentor = HTTPXClientInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()  # for the rest of this test process: nothing here needs it


async def test_the_gateway_takes_or_starts_the_trace_and_names_it(
    platform: Platform, plain_httpx: None
) -> None:
    trace_id, header = traceparent()
    async with platform.client(headers=await platform.admin_headers()) as client:
        taken = await client.get(
            "/api/welfare/v1/households", params={"limit": 1}, headers={"traceparent": header}
        )
        assert taken.status_code == 200
        assert taken.headers["X-Trace-ID"] == trace_id
        assert len(taken.headers.get_list("X-Trace-ID")) == 1
        started = [
            (await client.get("/api/welfare/v1/households", params={"limit": 1})).headers["X-Trace-ID"]
            for _ in range(2)
        ]
        assert all(HEX32.match(value) for value in started)
        assert started[0] != started[1]
        for broken in ("00-00000000000000000000000000000000-0000000000000000-01", "garbage", f"{header}x"):
            answer = await client.get("/healthz", headers={"traceparent": broken})
            assert HEX32.match(answer.headers["X-Trace-ID"])
            assert answer.headers["X-Trace-ID"] != "0" * 32
        # the gateway's own endpoints and its problems carry it too
        problem = await client.get("/api/no-such-service/v1/x", headers={"traceparent": header})
        assert problem.headers["X-Trace-ID"] == trace_id


def test_log_lines_carry_the_trace_and_span_ids() -> None:
    provider = TracerProvider(sampler=ALWAYS_OFF)  # as when nothing is exported: ids, no recording
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "answered", None, None)
    formatter = JsonFormatter("welfare")
    assert "trace_id" not in json.loads(formatter.format(record))
    with provider.get_tracer("test").start_as_current_span("request") as span:
        line = json.loads(formatter.format(record))
    context = span.get_span_context()
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert not span.is_recording()


class Collector(http.server.BaseHTTPRequestHandler):
    spans: list[tuple[str, str, str, dict[str, Any]]] = []  # (service, trace id, span name, attributes)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource_spans in request.resource_spans:
            service = next(
                (a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"),
                "",
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: a.value.string_value for a in span.attributes}
                    Collector.spans.append((service, span.trace_id.hex(), span.name, attributes))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_one_trace_crosses_gateway_eldercare_and_welfare(
    migrated_database: str, collector: str
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    with own_platform(migrated_database, env=env) as supervisor:
        async with httpx.AsyncClient(base_url=supervisor.gateway_url, timeout=30) as client:
            token = await client.post(
                "/auth/token",
                data={"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
            )
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            trace_id, header = traceparent()
            # item 13 of the catalogue reads the dibao standard from welfare
            answer = await client.post(
                "/api/eldercare/v1/evaluations",
                json={
                    "jurisdiction": "411702",
                    "on": "2024-03-15",
                    "person": {"birth_date": "1950-05-01", "tekun": "dispersed", "ability_level": 0},
                },
                headers={"traceparent": header},
            )
            assert answer.status_code == 200, answer.text
            assert answer.headers["X-Trace-ID"] == trace_id
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                services = {service for service, tid, _, _ in Collector.spans if tid == trace_id}
                if {"gateway", "eldercare", "welfare"} <= services:
                    break
                await asyncio.sleep(0.3)
    ours = [
        (service, name, attributes) for service, tid, name, attributes in Collector.spans if tid == trace_id
    ]
    assert {"gateway", "eldercare", "welfare"} <= {service for service, _, _ in ours}, ours
    # the database calls of the request are spans of the same trace
    assert any(
        service == "welfare" and any(key.startswith("db.") for key in attributes)
        for service, _, attributes in ours
    ), ours
