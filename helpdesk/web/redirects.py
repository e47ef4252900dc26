"""Where a page may send the browser after signing in: only a path on this site, judged by what
a browser will make of it, and never anything a header cannot carry."""

from __future__ import annotations

from urllib.parse import urlsplit

from quart import current_app, url_for

_PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x21, 0x7F))


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None.

    Browsers drop tabs and newlines anywhere in a URL, strip spaces and controls at its ends and
    read a backslash as a slash: `/\\t/evil.example` and `/\\\\evil.example` both lead to
    another host. So only printable ASCII without a backslash passes (which also keeps CR, LF and
    NUL out of the `Location` header), and then only a path: one slash, no scheme, no host."""
    if not target or not set(target) <= _PRINTABLE_ASCII or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def safe_next(target: str | None) -> str:
    """Where to go after signing in: `target` if it is a local path, else the home page."""
    return local_path(target) or url_for(current_app.config["HOME_ENDPOINT"])
