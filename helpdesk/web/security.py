"""Cross-site defences: same-origin checks for writes and sockets, and the response headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from quart import Response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",  # blob: the preview of a photo before it is sent
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# An uploaded file, opened on its own, runs nothing and loads nothing: even bytes that a browser
# might take for a page are sandboxed (no script, no same-origin rights).
UPLOADED_FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


DEFAULT_PORTS = {"http": "80", "https": "443"}
PAGE_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


def _normalized(scheme: str, netloc: str) -> str:
    """`scheme://host[:port]` in lower case, without the scheme's default port."""
    scheme, netloc = scheme.lower(), netloc.lower()
    default = DEFAULT_PORTS.get(scheme)
    if default and netloc.endswith(f":{default}"):
        netloc = netloc.removesuffix(f":{default}")
    return f"{scheme}://{netloc}"


def _origin_of(url: str) -> str | None:
    """The origin a browser's `Origin` or `Referer` names. Browsers only ever send http(s)
    origins, so anything else (`ws://`, `null`, a bare host) matches nothing."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.netloc:
        return None
    return _normalized(parts.scheme, parts.netloc)


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


def own_origin(scheme: str, host: str) -> str | None:
    """The origin of the pages this request was addressed to: its scheme (as a trusted proxy's
    `X-Forwarded-Proto` sets it; a socket's `ws`/`wss` are its page's `http`/`https`) and its
    `Host`."""
    page_scheme = PAGE_SCHEMES.get(scheme.lower())
    if page_scheme is None or not host:
        return None
    return _normalized(page_scheme, host)


def origin_allowed(origin: str, own: str | None, allowed_origins: Iterable[str]) -> bool:
    """The site's own origin (scheme, host and port alike), or one of the configured ones."""
    if not origin:
        return False
    if own is not None and origin == own:
        return True
    return any(origin == _origin_of(allowed) for allowed in allowed_origins)


def is_cross_site(headers: Mapping[str, str], scheme: str, allowed_origins: Iterable[str]) -> bool:
    """Whether a browser sent this request from a page of another origin."""
    origin = claimed_origin(headers)
    if origin is None:
        return False
    own = own_origin(scheme, headers.get("Host", ""))
    return not origin_allowed(origin, own, allowed_origins)


# A year, as browsers' preload lists ask; sent only where the cookie is marked Secure, the
# setting that says the site is served over TLS (a plain-http install would lock itself out).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def security_headers(*, over_tls: bool) -> Callable[[Response], Awaitable[Response]]:
    """The after-request hook that puts the headers above on every response."""
    headers = dict(SECURITY_HEADERS)
    if over_tls:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY

    async def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    return add_security_headers
