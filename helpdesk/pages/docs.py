"""API documentation at /docs: Swagger UI 5 (it reads OpenAPI 3.1) from the installed
openapi-ui-bundles package, served by the app itself, no CDN."""

from __future__ import annotations

from openapi_ui_bundles import swagger_ui
from quart import Blueprint, render_template, send_from_directory
from quart.typing import ResponseReturnValue

blueprint = Blueprint("docs", __name__)
SWAGGER_FILES = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"}
)


@blueprint.get("/docs")
async def api_docs() -> ResponseReturnValue:
    return await render_template("docs.html")


@blueprint.get("/docs/assets/<name>")
async def docs_asset(name: str) -> ResponseReturnValue:
    if name not in SWAGGER_FILES:
        return "not found", 404
    return await send_from_directory(swagger_ui.static_path, name)
