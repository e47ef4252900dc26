"""The filesystem backend (the default): one file per key under a root folder.

The folder, from HELPDESK_STORAGE_URL (everything after `file://`, percent-decoded):
- `""` or `file://`: `uploads` in the instance folder;
- a path starting with `/` (`file:///srv/helpdesk/uploads`): that folder;
- any other path (`file://uploads`, `file://data/uploads`): that folder inside the instance folder.

A file is written to a temporary file beside it and renamed over the key (`os.replace`), so a
reader sees the old bytes or the new ones, never half a file. Files are 0o600 and folders 0o700:
uploads are for the helpdesk's own user only. Blocking calls run in a worker thread, off the
event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from urllib.parse import unquote

from . import CHUNK_SIZE, StorageError, StoredFileMissing, check_key, check_range

# A delete can remove a folder that has just emptied while a put is about to write into it.
FOLDER_ATTEMPTS = 3
TEMPORARY_PREFIX = "."  # keys have no dots, so a temporary file never shadows one
TEMPORARY_SUFFIX = ".partial"


def file_root(url: str, instance_path: Path) -> Path:
    """The folder a `file://` URL (or the empty string) names; ValueError if it names none."""
    if url and not url.startswith("file://"):
        raise ValueError("HELPDESK_STORAGE_URL for files must start with file://")
    raw = url.removeprefix("file://")
    if "?" in raw or "#" in raw:
        raise ValueError(
            "HELPDESK_STORAGE_URL file:// takes a folder only; write ? and # in it as %3F and %23"
        )
    path = unquote(raw)
    if "\x00" in path:
        raise ValueError("HELPDESK_STORAGE_URL must not contain a NUL character")
    folder = Path(path) if path else Path("uploads")
    return (folder if folder.is_absolute() else instance_path / folder).resolve()


class FileStorage:
    """Keys as files under `root` (`ab/cd/original` is `root/ab/cd/original`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"files under {root}"

    async def start(self) -> None:
        try:
            await asyncio.to_thread(self._make_root)
        except OSError as error:
            raise StorageError(f"cannot use the folder {self.root}: {_reason(error)}") from error

    async def close(self) -> None:
        """Nothing is held open between calls."""

    def path(self, key: str) -> Path:
        """Where `key` lives; ValueError for a key of the wrong form."""
        return self.root.joinpath(*check_key(key).split("/"))

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self.path(key)
        try:
            await asyncio.to_thread(self._write, path, data)
        except OSError as error:
            raise StorageError(f"cannot write {key} under {self.root}: {_reason(error)}") from error

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path(key)
        check_range(start, end)
        return self._chunks(key, path, start, end)

    async def delete(self, keys: Sequence[str]) -> None:
        paths = [self.path(key) for key in keys]  # every key checked before any is removed
        try:
            await asyncio.to_thread(self._remove, paths)
        except OSError as error:
            raise StorageError(f"cannot delete under {self.root}: {_reason(error)}") from error

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def _chunks(
        self, key: str, path: Path, start: int, end: int | None
    ) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            raise StoredFileMissing(f"no stored file {key}") from error
        except OSError as error:
            raise StorageError(f"cannot read {key} under {self.root}: {_reason(error)}") from error
        with handle:
            remaining = None if end is None else end - start
            try:
                await asyncio.to_thread(handle.seek, start)
                while remaining is None or remaining > 0:
                    wanted = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                    chunk = await asyncio.to_thread(handle.read, wanted)
                    if not chunk:
                        return
                    if remaining is not None:
                        remaining -= len(chunk)
                    yield chunk
            except OSError as error:
                raise StorageError(f"cannot read {key}: {_reason(error)}") from error

    def _make_root(self) -> None:
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            self.root.mkdir(mode=0o700)
        if not self.root.is_dir():
            raise NotADirectoryError(f"{self.root} is not a folder")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise PermissionError(f"{self.root} is not writable by this user")

    def _write(self, path: Path, data: bytes) -> None:
        descriptor, temporary = self._open_temporary(path.parent)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def _open_temporary(self, folder: Path) -> tuple[int, str]:
        """A new 0o600 file in `folder`, made with its missing parents (0o700)."""
        for _ in range(FOLDER_ATTEMPTS - 1):
            self._make_folders(folder)
            with contextlib.suppress(FileNotFoundError):
                return _temporary_in(folder)
        self._make_folders(folder)
        return _temporary_in(folder)

    def _make_folders(self, folder: Path) -> None:
        current = self.root
        for part in folder.relative_to(self.root).parts:
            current = current / part
            with contextlib.suppress(FileExistsError):
                current.mkdir(mode=0o700)

    def _remove(self, paths: list[Path]) -> None:
        for path in paths:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
                path.unlink()
            self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        """Remove `folder` and its parents below the root while they are empty."""
        while folder != self.root:
            try:
                folder.rmdir()
            except OSError:
                return  # not empty, or gone already: leave it
            folder = folder.parent


def _temporary_in(folder: Path) -> tuple[int, str]:
    return tempfile.mkstemp(dir=folder, prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX)


def _reason(error: OSError) -> str:
    return error.strerror or str(error)
