"""What /openapi.json says about each operation: every status it can answer with, in one place.

quart-schema documents JSON responses from models; the provider here adds the two answers that
are not JSON (204 No Content and the CSV report) and the session cookie as the security scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from quart import Quart
from quart_schema import DataSource, document_response, hide
from quart_schema.openapi import OpenAPIProvider
from quart_schema.validation import QUART_SCHEMA_REQUEST_ATTRIBUTE

from .schemas import ErrorOut

F = TypeVar("F", bound=Callable[..., Any])
SESSION_SCHEME = {"session": {"type": "apiKey", "in": "cookie", "name": "helpdesk_session"}}

# Errors by what an operation does: each adds the statuses it can answer with.
SIGNED_IN = (401,)
JSON_BODY = (400, 413, 415)  # invalid fields, too large, not declared as JSON
QUERY = (400,)
ONE_TICKET = (404,)  # missing, or not the caller's
NOT_FOUND = (404,)
STAFF = (403,)
VERSIONED = (409,)  # a stale version, or a move the workflow lacks
RATE_LIMITED = (429,)


class NoContent:
    """Documents a 204: nothing in the body."""


class CsvFile:
    """Documents a CSV download."""


class MultipartFile:
    """Documents an upload: a multipart body with one file in the field `file`."""


MULTIPART_FILE = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}


def takes_a_file(view: F) -> F:
    """Describe the operation's body as an upload. The route reads it itself, as it streams
    in (helpdesk/web/uploads.py), so quart-schema's validation is not used, only its field
    for what the body is."""
    setattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, (MultipartFile, DataSource.FORM_MULTIPART))
    return view


def errors(*groups: tuple[int, ...]) -> Callable[[F], F]:
    """Document the error statuses an operation can answer with, all in the error shape."""
    statuses = sorted({status for group in groups for status in group})

    def decorate(view: F) -> F:
        for status in statuses:
            view = document_response(ErrorOut, status)(view)
        return view

    return decorate


def hide_everything_but_the_api(app: Quart) -> None:
    """/openapi.json describes the JSON API: pages, files and the socket stay out of it."""
    api_endpoints = {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
    }
    for endpoint, view in app.view_functions.items():
        if endpoint not in api_endpoints:
            hide(getattr(view, "__func__", view))  # bound methods: mark the function


class HelpdeskOpenAPI(OpenAPIProvider):
    def build_request_body(self, model: Any, source: DataSource) -> tuple[dict, dict]:
        if model is MultipartFile:
            return MULTIPART_FILE, {}
        return super().build_request_body(model, source)

    def build_response_object(
        self, model: type[Any], headers_model: type[Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if model is NoContent:
            return {"description": "No content"}, {}
        if model is CsvFile:
            csv = {"text/csv": {"schema": {"type": "string"}}}
            return {"description": "A CSV file, one row per ticket", "content": csv}, {}
        return super().build_response_object(model, headers_model)

    def schema(self) -> dict[str, Any]:
        schema = super().schema()
        schema["components"].setdefault("securitySchemes", {}).update(SESSION_SCHEME)
        return schema
