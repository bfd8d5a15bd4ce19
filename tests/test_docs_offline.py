"""API docs on an intranet: Swagger UI and ReDoc load everything from the platform itself."""

from __future__ import annotations

import asyncio
import re
import shutil

import pytest

from platformctl.testing import Platform

# any address a page could load from: absolute, protocol-relative, or a CSS url() / @import of one
OUTSIDE = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}|@import""", re.IGNORECASE)
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
PAGES = ("/docs", "/redoc")


async def test_docs_pages_name_no_outside_address_and_their_assets_are_served(platform: Platform) -> None:
    async with platform.client() as client:
        for page in PAGES:
            response = await client.get(page)
            assert response.status_code == 200, page
            assert response.headers["content-type"].startswith("text/html")
            assert OUTSIDE.findall(response.text) == [], page
            references = REFERENCE.findall(response.text)
            assert any(ref.endswith(".js") for ref in references), references
            for reference in references:
                assert reference.startswith("/"), reference
                asset = await client.get(reference)
                assert asset.status_code == 200, reference
                assert len(asset.content) > 1000, reference
                if reference.endswith(".js"):
                    assert "javascript" in asset.headers["content-type"]
                    # a bundle that would fetch its code or fonts from a CDN at run time
                    assert "cdn.jsdelivr.net" not in asset.text
                    assert "unpkg.com" not in asset.text
                if reference.endswith(".css"):
                    assert asset.headers["content-type"].startswith("text/css")
                    assert not re.search(r"url\(\s*['\"]?(https?:)?//", asset.text), reference
        missing = await client.get("/docs/assets/../../etc/passwd")
        assert missing.status_code == 404
        assert (await client.get("/docs/assets/secrets.txt")).status_code == 404


async def test_authorize_offers_password_and_client_credentials_against_the_token_endpoint(
    platform: Platform,
) -> None:
    async with platform.client() as client:
        document = (await client.get("/openapi.json")).json()
        oauth2 = document["components"]["securitySchemes"]["oauth2"]
        assert oauth2["type"] == "oauth2"
        assert set(oauth2["flows"]) == {"password", "clientCredentials"}
        assert {flow["tokenUrl"] for flow in oauth2["flows"].values()} == {"/auth/token"}
        # every protected operation accepts a token from either scheme
        protected = [
            operation
            for path, item in document["paths"].items()
            if path.startswith("/api/")
            for method, operation in item.items()
            if method in {"get", "post", "put", "patch", "delete"}
        ]
        assert protected
        assert all({"oauth2": []} in operation["security"] for operation in protected)
        # the flow Swagger UI runs: a password grant posted as a form to the tokenUrl
        token = await client.post(
            oauth2["flows"]["password"]["tokenUrl"],
            data={"grant_type": "password", "username": "test-admin", "password": "test-admin-password-123"},
        )
        assert token.status_code == 200, token.text


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


async def _render(browser: str, url: str) -> str:
    """The page's DOM after its scripts ran, with every address outside loopback refused."""
    process = await asyncio.create_subprocess_exec(
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        # names resolve to nothing and anything else goes to a closed port (loopback is never proxied)
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--virtual-time-budget=30000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=180)
    return stdout.decode("utf-8", "replace")


async def test_docs_render_operations_in_a_browser_without_internet(platform: Platform) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip(
            "headless Chromium is not installed (Debian package `chromium`): the pages are not rendered"
        )
    async with platform.client() as client:
        assert (
            await client.get("/openapi.json")
        ).status_code == 200  # merged and cached before the browser asks
    swagger = await _render(browser, f"{platform.url}/docs")
    assert "opblock-summary" in swagger, swagger[:2000]
    assert "/api/welfare/v1/households" in swagger
    assert "Issue an access token" in swagger
    assert "authorize" in swagger.lower()
    redoc = await _render(browser, f"{platform.url}/redoc")
    assert "Issue an access token" in redoc, redoc[:2000]
    assert "/api/welfare/v1/households" in redoc
