"""Helpers for tests that drive the whole platform through the gateway."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from platformctl.supervisor import Supervisor

ADMIN_USERNAME = "test-admin"
ADMIN_PASSWORD = "test-admin-password-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Platform:
    url: str
    supervisor: Supervisor
    _tokens: dict[str, str] = field(default_factory=dict)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, **kwargs)

    async def token(self, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> str:
        async with self.client() as client:
            response = await client.post(
                "/auth/token",
                data={"grant_type": "password", "username": username, "password": password},
            )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def admin_headers(self) -> dict[str, str]:
        if "admin" not in self._tokens:
            self._tokens["admin"] = await self.token()
        return {"Authorization": f"Bearer {self._tokens['admin']}"}

    async def account(
        self,
        username: str,
        *,
        scopes: list[str],
        jurisdictions: Sequence[str] = (),
        units: Sequence[str] = (),
        roles: Sequence[str] = ("staff",),
        password: str = "a-long-test-password",
    ) -> dict[str, str]:
        """Create (once) an account with these grants and return its bearer headers."""
        async with self.client(headers=await self.admin_headers()) as client:
            response = await client.post(
                "/auth/admin/accounts",
                json={
                    "username": username,
                    "display_name": username,
                    "password": password,
                    "roles": list(roles),
                    "scopes": scopes,
                    "jurisdictions": list(jurisdictions),
                    "units": list(units),
                },
            )
        assert response.status_code in (201, 409), response.text
        return {"Authorization": f"Bearer {await self.token(username, password)}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem+json answer with this status; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    assert "Traceback" not in response.text
    return body
