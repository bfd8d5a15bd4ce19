"""API docs that work without internet: Swagger UI at ``/docs``, ReDoc at ``/redoc``.

The JavaScript and CSS come from the ``fastapi-offline`` wheel (Swagger UI's bundle and
ReDoc's standalone build) and are served by the platform itself under ``/docs/assets/``;
the pages name no outside address (no CDN, no web fonts, no validator badge). Swagger UI's
"Authorize" offers the OAuth2 password and client-credentials flows against the token
endpoint (the ``oauth2`` security scheme, :data:`OAUTH2_SCHEME`).
"""

from __future__ import annotations

import html
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException

ASSETS_PATH = "/docs/assets"
_ASSETS: dict[str, tuple[str, str]] = {
    # name served → (file in the wheel, media type)
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8"),
    "redoc.standalone.js": ("redoc.standalone.js", "text/javascript; charset=utf-8"),
    "favicon.png": ("favicon.png", "image/png"),
}
TOKEN_URL = "/auth/token"  # noqa: S105 - a path, not a secret

OAUTH2_SCHEME: dict[str, Any] = {
    "type": "oauth2",
    "description": "Tokens from the platform's token endpoint (RFC 6749): a person signs in with the "
    "password grant, another system with the client-credentials grant. The token is then sent as "
    "`Authorization: Bearer …`, the same as the `bearer` scheme.",
    "flows": {
        "password": {"tokenUrl": TOKEN_URL, "scopes": {}},
        "clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": {}},
    },
}


def _asset_folder() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def swagger_ui_html(*, openapi_url: str, title: str) -> str:
    config = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "persistAuthorization": True,
        "displayRequestDuration": True,
        "showExtensions": True,
        "validatorUrl": None,  # the default badge asks an outside validator
    }
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon.png">
<link rel="stylesheet" type="text/css" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script>
const config = {json.dumps(config)};
config.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
window.ui = SwaggerUIBundle(config);
window.ui.initOAuth({{appName: {json.dumps(title)}}});
</script>
</body>
</html>
"""


def redoc_html(*, openapi_url: str, title: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon.png">
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<div id="redoc"></div>
<script src="{ASSETS_PATH}/redoc.standalone.js"></script>
<script>
Redoc.init({json.dumps(openapi_url)}, {{disableSearch: false, hideDownloadButton: false}},
  document.getElementById("redoc"));
</script>
</body>
</html>
"""


def docs_router(*, openapi_url: str, title: str) -> APIRouter:
    """``/docs`` (Swagger UI), ``/redoc`` (ReDoc) and their assets, all from this process."""
    router = APIRouter(include_in_schema=False)
    folder = _asset_folder()

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger_ui_html(openapi_url=openapi_url, title=title))

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return HTMLResponse(redoc_html(openapi_url=openapi_url, title=title))

    @router.get(ASSETS_PATH + "/{name}")
    async def asset(name: str) -> FileResponse:
        known = _ASSETS.get(name)
        if known is None:
            raise HTTPException(404, "No such documentation asset.")
        filename, media_type = known
        # the bundles change only with the package version: a day in caches, revalidated by ETag
        return FileResponse(
            folder / filename, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
        )

    return router
