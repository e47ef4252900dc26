"""Where attachment bytes live, chosen by URL like the broker: `file://` (the default, a folder
under the instance) or `s3://bucket` (any S3-compatible store, for several hosts).

Callers make keys from a random token (`ab/abcdef.../original`); every backend still refuses any
other form, so a key can never name something outside the store.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Protocol

CHUNK_SIZE = 64 * 1024  # what `read` yields at most at a time
_KEY = re.compile(r"[A-Za-z0-9_-]{1,255}(/[A-Za-z0-9_-]{1,255})*")
MAX_KEY_LENGTH = 512


class StorageError(Exception):
    """The store cannot be reached or refused the request: the route answers 503."""


class StoredFileMissing(StorageError):
    """No object under this key."""


class Storage(Protocol):
    """What the attachment code needs from a store of bytes."""

    description: str  # where the bytes go, for logs and the admin page; never a secret

    async def start(self) -> None:
        """Get ready (make the folder, open the client, check the bucket); StorageError if not."""

    async def close(self) -> None:
        """Let go of connections; safe to call more than once."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there in one step."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes [start, end) of `key` (end None: to its end) in chunks of at most CHUNK_SIZE.

        A range past the end yields nothing. StoredFileMissing comes before any chunk."""
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove these keys; keys that are not there are fine."""

    async def exists(self, key: str) -> bool:
        """Whether `key` holds an object."""
        ...


def check_key(key: str) -> str:
    """`key` itself if it has the form callers make; ValueError otherwise."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise ValueError(
            f"a storage key is 1-{MAX_KEY_LENGTH} characters of A-Z, a-z, 0-9, '_' and '-' "
            f"in segments joined by '/', not {key!r}"
        )
    return key


def check_range(start: int, end: int | None) -> None:
    """ValueError unless 0 <= start and (end is None or start <= end)."""
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"a byte range needs 0 <= start <= end, not start={start}, end={end}")


def create_storage(url: str, instance_path: Path) -> Storage:
    """The backend for HELPDESK_STORAGE_URL; ValueError in plain words if the URL is unusable.

    Only parses: nothing is made or contacted until `start`."""
    if url == "" or url.startswith("file://"):
        from .files import FileStorage, file_root

        return FileStorage(file_root(url, instance_path))
    if url.startswith("s3://"):
        from .s3 import S3Storage, parse_s3_url

        return S3Storage(parse_s3_url(url))
    # Only the scheme is repeated: the rest of a URL may hold a secret.
    scheme = url.partition("://")[0] if "://" in url else ""
    shown = f"{scheme}://" if re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,19}", scheme) else "that"
    raise ValueError(f"HELPDESK_STORAGE_URL must be empty, file://... or s3://..., not {shown}")


__all__ = [
    "CHUNK_SIZE",
    "Storage",
    "StorageError",
    "StoredFileMissing",
    "check_key",
    "check_range",
    "create_storage",
]
