"""A health check for load balancers and operators: is the database there, is live fan-out up."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag
from tortoise import connections
from tortoise.exceptions import OperationalError

from ..web.context import json_response, services
from .schemas import HealthOut

blueprint = Blueprint("api_health", __name__)


@blueprint.get("/health")
@tag(["health"])
@document_response(HealthOut, 200)
@document_response(HealthOut, 503)
async def get_health() -> Response:
    """200 while the database answers (503 otherwise); `broker` says whether live events reach
    the other processes; `node` tells which worker answered."""
    try:
        await connections.get("default").execute_query("SELECT 1")
        database = "ok"
    except (OperationalError, OSError):
        database = "unavailable"
    hub = services().hub
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "broker": "ok" if hub.subscribed.is_set() else "unavailable",
        "node": hub.node,
    }
    return json_response(body, 200 if database == "ok" else 503)
