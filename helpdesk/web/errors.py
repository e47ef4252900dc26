"""One mapping from errors to responses: JSON `{"error": {...}}` under /api, a page elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from quart import (
    Quart,
    Response,
    has_request_context,
    has_websocket_context,
    redirect,
    render_template,
    request,
    url_for,
    websocket,
)
from quart_schema import RequestSchemaValidationError
from tortoise.exceptions import DBConnectionError, OperationalError
from werkzeug.exceptions import HTTPException

from ..encoding import dumps
from ..errors import (
    HelpdeskError,
    RateLimited,
    ServiceUnavailable,
    StaleVersion,
    Unauthenticated,
)

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    return Response(dumps(body), status=status, headers=headers, content_type="application/json")


def describe_validation(error: Exception) -> tuple[str | None, str]:
    """The first offending field and a sentence naming it, from a pydantic (or other) error."""
    if isinstance(error, PydanticValidationError) and error.errors():
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = first["msg"]
        return field, f"{field}: {message}" if field else message
    return None, str(error) or "the request is not valid"


async def _render(error: HelpdeskError) -> Response:
    """JSON for the API; for pages, the sign-in form when signed out, else an error page."""
    if wants_json():
        body: dict[str, Any] = {"error": error.to_json()}
        if isinstance(error, StaleVersion):
            body["ticket"] = error.current
        headers = {}
        if isinstance(error, RateLimited):
            headers["Retry-After"] = str(error.retry_after)
        return error_response(error.status, body, headers)
    if isinstance(error, Unauthenticated):
        target = request.full_path.rstrip("?") if request.method == "GET" else "/"
        return redirect(url_for("auth.login", next=target))
    page = await render_template("error.html", error=error)
    return Response(page, status=error.status, content_type="text/html")


class _HTTPError(HelpdeskError):
    """A framework-level refusal (404 route, 405, 413, 415, schema errors) in the same shape."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail, field=field)
        self.status = status  # type: ignore[misc]
        self.code = code  # type: ignore[misc]


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(HelpdeskError)
    async def handle_helpdesk_error(error: HelpdeskError) -> Response:
        return await _render(error)

    @app.errorhandler(RequestSchemaValidationError)
    async def handle_schema_error(error: RequestSchemaValidationError) -> Response:
        field, detail = describe_validation(error.validation_error)
        return await _render(_HTTPError(400, "validation_error", detail, field))

    @app.errorhandler(HTTPException)
    async def handle_http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "_")
        return await _render(_HTTPError(status, code, error.description or error.name))

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBConnectionError)
    async def handle_database_error(error: Exception) -> Response:
        log.error("database refused the operation", exc_info=error)
        return await _render(
            ServiceUnavailable("the helpdesk cannot save changes right now; try again shortly")
        )

    @app.errorhandler(Exception)
    async def handle_unexpected(error: Exception) -> Response:
        if not has_request_context():  # a socket's handshake or handler: no page to render
            where = websocket.path if has_websocket_context() else "?"
            log.error("unhandled error on the socket %s", where, exc_info=error)
            return Response("something went wrong on our side", status=500)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return await _render(_HTTPError(500, "internal_error", "something went wrong on our side"))
