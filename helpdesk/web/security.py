"""Cross-site defences: same-origin checks for writes and sockets, and the response headers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from quart import Response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def claimed_origin(headers: Mapping[str, str]) -> str | None:
    """What the browser says the request comes from: `Origin`, else `Referer`'s origin.

    Returns "" for a header that is present but unusable (such as `Origin: null`), which no
    allowed origin matches; None when the client sent neither header (a script, not a browser).
    """
    origin = headers.get("Origin")
    if origin is not None:
        return _origin_of(origin) or ""
    referer = headers.get("Referer")
    if referer is not None:
        return _origin_of(referer) or ""
    return None


def origin_allowed(origin: str, host: str, allowed_origins: Iterable[str]) -> bool:
    """Same host as the request was addressed to, or one of the configured origins."""
    if not origin:
        return False
    if origin in (allowed.lower() for allowed in allowed_origins):
        return True
    return bool(host) and urlsplit(origin).netloc == host.lower()


def is_cross_site(headers: Mapping[str, str], allowed_origins: Iterable[str]) -> bool:
    origin = claimed_origin(headers)
    if origin is None:
        return False
    return not origin_allowed(origin, headers.get("Host", ""), allowed_origins)


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
