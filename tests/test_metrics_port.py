"""/metrics on a port of its own, not the public one (``<P>METRICS_PORT``).

The launcher gives every process a metrics port (as the deployments do: 9090 in each
container, reachable only from the monitoring namespace). On the public port — the
gateway's above all, the one clients reach — /metrics is not found; on the metrics port
it answers the Prometheus text format. Without the setting it stays on the public port.
"""

from __future__ import annotations

import httpx
import pytest

from platformctl.testing import Platform
from renewal.config import Settings as RenewalSettings
from renewal.main import create_app as create_renewal
from shared.testing import TokenMint, app_client

PROMETHEUS = "text/plain"


async def test_metrics_are_served_on_their_own_port_not_the_public_one(platform: Platform) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        for child in platform.supervisor.children:
            assert child.metrics_port is not None
            assert child.metrics_port != child.port
            public = await client.get(f"http://127.0.0.1:{child.port}/metrics")
            assert public.status_code == 404, (child.name, public.text[:200])
            assert public.headers["content-type"].startswith("application/problem+json"), child.name
            assert (await client.get(f"http://127.0.0.1:{child.port}/healthz")).status_code == 200
            metrics = await client.get(f"http://127.0.0.1:{child.metrics_port}/metrics")
            assert metrics.status_code == 200, child.name
            assert metrics.headers["content-type"].startswith(PROMETHEUS)
            assert "process_resident_memory_bytes" in metrics.text
        # through the gateway, as a client on the internet would ask
        assert (await client.get(f"{platform.url}/metrics")).status_code == 404
        assert (await client.get(f"{platform.url}/api/welfare/metrics")).status_code in {401, 404}


@pytest.mark.parametrize("separate", [False, True])
async def test_the_metrics_port_setting_moves_metrics(
    separate: bool, migrated_database: str, mint: TokenMint
) -> None:
    from platformctl.supervisor import free_port

    port = free_port() if separate else None
    app = create_renewal(RenewalSettings(database_url=migrated_database, metrics_port=port, log_json=False))
    async with app_client(app, mint) as client:
        public = await client.get("/metrics")
        assert public.status_code == (404 if separate else 200)
        assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"] or not separate
        if separate:
            async with httpx.AsyncClient(timeout=10) as direct:
                answer = await direct.get(f"http://127.0.0.1:{port}/metrics")
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith(PROMETHEUS)
    if separate:  # stopped with the app
        async with httpx.AsyncClient(timeout=2) as direct:
            with pytest.raises(httpx.TransportError):
                await direct.get(f"http://127.0.0.1:{port}/metrics")
