"""Serving stored files: conditional and range requests, and headers that keep them inert."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

from quart import Response, request
from werkzeug.datastructures import Headers

from ..storage import Storage
from .security import UPLOADED_FILE_POLICY

# For the signed-in person only, and not kept: on a shared computer in a library or lab, the
# next person finds no photo of the last one's room in the browser's cache. The ETag still
# spares a download to clients that keep files themselves, and resumes one (If-Range).
FILE_CACHING = "private, no-store"


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    content_type: str
    etag: str
    filename: str
    download: bool  # sent as an attachment (saved), never shown in the browser


def disposition(filename: str, *, download: bool) -> str:
    """`Content-Disposition` with an ASCII name for old clients and the exact one (RFC 6266)."""
    headers = Headers()
    kind = "attachment" if download else "inline"
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = "".join(c for c in ascii_name if c.isprintable() and c not in '"\\') or "file"
    if ascii_name == filename:
        headers.set("Content-Disposition", kind, filename=ascii_name)
    else:
        quoted = quote(filename, safe="!#$&+-.^_`|~")
        headers.set(
            "Content-Disposition", kind, filename=ascii_name, **{"filename*": f"UTF-8''{quoted}"}
        )
    return headers["Content-Disposition"]


async def file_response(storage: Storage, stored: StoredFile) -> Response:
    """The file, or the part of it a Range asks for (one range; several get the whole file),
    or 304 when the client's copy is current."""
    headers = {
        "ETag": f'"{stored.etag}"',
        "Cache-Control": FILE_CACHING,
        "Accept-Ranges": "bytes",
        "Content-Security-Policy": UPLOADED_FILE_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": disposition(stored.filename, download=stored.download),
    }
    if request.if_none_match.contains(stored.etag):
        return Response(b"", status=304, headers=headers)
    start, end, status = 0, stored.size, 200
    wanted = request.range
    if wanted is not None and _range_applies(stored.etag):
        span = wanted.range_for_length(stored.size) if len(wanted.ranges) == 1 else None
        if span is None and len(wanted.ranges) == 1:
            headers["Content-Range"] = f"bytes */{stored.size}"
            return Response(b"", status=416, headers=headers)
        if span is not None:
            start, end, status = span[0], span[1], 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{stored.size}"
    body = await _opened(storage.read(stored.key, start, end))
    response = Response(body, status=status, headers=headers, content_type=stored.content_type)
    response.content_length = end - start
    return response


def _range_applies(etag: str) -> bool:
    """With If-Range, a range only of the same version of the file (its strong ETag); a date
    there cannot match, since files are served without Last-Modified."""
    if "If-Range" not in request.headers:
        return True
    return request.if_range.etag == etag


async def _opened(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Read the first chunk now, so a missing file is an error before any header is sent."""
    first = await anext(chunks, b"")

    async def stream() -> AsyncIterator[bytes]:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk

    return stream()
