"""Refuse a request whose `Host` no URL could carry, before the framework sees it.

Quart builds the request's URL adapter while it makes the request context, and werkzeug raises
there for a host name that IDNA cannot encode (a label over 63 characters, an empty label): no
error handler runs yet, so the client got a 500. The check here is the one werkzeug makes, done
first, and such a request gets a plain 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

ASGIApp = Callable[
    [dict[str, Any], Callable[..., Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]
]
REFUSAL = b"the Host header is not a host name this server can answer for"


def host_is_usable(host: str) -> bool:
    """What werkzeug's routing accepts: the part before the first colon encodes as IDNA."""
    try:
        host.partition(":")[0].encode("idna")
    except UnicodeError:
        return False
    return True


def _host_of(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return value.decode("latin-1")
    return ""


class RefuseUnusableHosts:
    """ASGI middleware: 400 for HTTP, a refused handshake for sockets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and not host_is_usable(_host_of(scope)):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": REFUSAL})
            return
        await self.app(scope, receive, send)
