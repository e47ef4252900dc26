"""API documentation at /docs: Swagger UI served from the installed swagger-ui-bundle, no CDN."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from quart import Blueprint, render_template, send_from_directory
from quart.typing import ResponseReturnValue

blueprint = Blueprint("docs", __name__)
SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
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
    return await send_from_directory(SWAGGER_DIR, name)
