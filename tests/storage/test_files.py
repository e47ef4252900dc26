"""The storage contract every backend keeps (StorageContract, run here on the filesystem and in
test_s3.py on S3), then what only the filesystem backend promises: its folder, its file modes,
and files replaced in one step."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from helpdesk.storage import CHUNK_SIZE, Storage, StorageError, StoredFileMissing, create_storage
from helpdesk.storage.files import FileStorage

KEY = "ab/abcdef0123456789/original"
THUMBNAIL = "ab/abcdef0123456789/thumbnail"
TEN = b"0123456789"
BAD_KEYS = [
    "",
    "/etc/passwd",
    "../outside",
    "ab/../../outside",
    "ab/..",
    "ab/./cd",
    "ab//cd",
    "ab/",
    "ab\\cd",
    "..\\outside",
    "ab/cd.txt",
    "ab cd",
    "ab/c\x00d",
    "ab/\u00fcber",
    "a" * 600,
]


async def read_all(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, start, end)])


class StorageContract:
    """What the attachment code relies on from any backend. A subclass's module gives the
    `storage` fixture: a started, empty store."""

    async def test_put_then_read_gives_the_same_bytes(self, storage: Storage) -> None:
        await storage.put(KEY, b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png")
        assert await read_all(storage, KEY) == b"\x89PNG\r\n\x1a\n" + bytes(range(256))

    @pytest.mark.parametrize(
        ("start", "end"),
        [(2, 5), (3, None), (0, 10), (9, 10), (9, None), (8, 50), (10, None), (12, 20), (4, 4)],
        ids=["middle", "start-only", "whole", "last-byte", "last-byte-open", "end-past-size",
             "start-at-size", "start-past-size", "empty-range"],
    )  # fmt: skip
    async def test_read_gives_the_range_start_to_end(
        self, storage: Storage, start: int, end: int | None
    ) -> None:
        await storage.put(KEY, TEN, "application/pdf")
        assert await read_all(storage, KEY, start, end) == TEN[start:end]

    async def test_an_empty_object_reads_as_nothing(self, storage: Storage) -> None:
        await storage.put(KEY, b"", "application/pdf")
        assert await storage.exists(KEY)
        assert await read_all(storage, KEY) == b""
        assert await read_all(storage, KEY, 0, 5) == b""

    @pytest.mark.parametrize(("start", "end"), [(0, None), (3, 7), (5, 5)])
    async def test_reading_a_missing_key_raises_before_any_chunk(
        self, storage: Storage, start: int, end: int | None
    ) -> None:
        chunks = storage.read(KEY, start, end)
        with pytest.raises(StoredFileMissing, match="no stored file") as raised:
            await anext(chunks)
        assert isinstance(raised.value, StorageError)  # a route that catches only this still 503s

    async def test_exists_tells_a_stored_key_from_one_that_is_not(self, storage: Storage) -> None:
        await storage.put(KEY, TEN, "image/jpeg")
        assert await storage.exists(KEY)
        assert not await storage.exists(THUMBNAIL)
        assert not await storage.exists("ab")  # a folder or prefix of a key is no key

    async def test_delete_removes_several_keys_and_ignores_missing_ones(
        self, storage: Storage
    ) -> None:
        kept = "cd/cdef/original"
        for key in (KEY, THUMBNAIL, kept):
            await storage.put(key, TEN, "image/jpeg")
        await storage.delete([KEY, THUMBNAIL, "zz/never/stored", KEY])
        assert not await storage.exists(KEY) and not await storage.exists(THUMBNAIL)
        await storage.delete([KEY, THUMBNAIL])  # again: nothing there, no error
        await storage.delete([])
        assert await read_all(storage, kept) == TEN

    async def test_a_large_object_streams_in_chunks_of_at_most_64_kib(
        self, storage: Storage
    ) -> None:
        data = os.urandom(3 * 1024 * 1024)
        await storage.put(KEY, data, "application/pdf")
        chunks = [chunk async for chunk in storage.read(KEY)]
        assert len(chunks) >= len(data) // CHUNK_SIZE
        assert max(len(chunk) for chunk in chunks) <= CHUNK_SIZE
        assert b"".join(chunks) == data
        ranged = [chunk async for chunk in storage.read(KEY, 100_001, 2_000_003)]
        assert max(len(chunk) for chunk in ranged) <= CHUNK_SIZE
        assert b"".join(ranged) == data[100_001:2_000_003]

    async def test_overwriting_replaces_the_bytes_in_one_step(self, storage: Storage) -> None:
        old, new = b"o" * (CHUNK_SIZE * 20), b"n" * (CHUNK_SIZE * 3 + 7)
        await storage.put(KEY, old, "application/pdf")
        reading = storage.read(KEY)
        first = await anext(reading)
        await storage.put(KEY, new, "application/pdf")
        rest = [chunk async for chunk in reading]
        assert first + b"".join(rest) == old  # a reader already under way keeps the old file
        assert await read_all(storage, KEY) == new

    @pytest.mark.parametrize("key", BAD_KEYS)
    async def test_a_key_of_another_form_is_refused_and_changes_nothing(
        self, storage: Storage, key: str
    ) -> None:
        await storage.put(KEY, TEN, "image/png")
        with pytest.raises(ValueError, match="storage key"):
            await storage.put(key, b"evil", "image/png")
        with pytest.raises(ValueError, match="storage key"):
            storage.read(key)
        with pytest.raises(ValueError, match="storage key"):
            await storage.exists(key)
        with pytest.raises(ValueError, match="storage key"):
            await storage.delete([KEY, key])
        assert await read_all(storage, KEY) == TEN  # the good key of the refused batch is kept

    @pytest.mark.parametrize(("start", "end"), [(-1, None), (5, 4), (-3, -1)])
    def test_a_backwards_or_negative_range_is_refused(
        self, storage: Storage, start: int, end: int | None
    ) -> None:
        with pytest.raises(ValueError, match="byte range"):
            storage.read(KEY, start, end)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
async def storage(instance: Path) -> AsyncIterator[FileStorage]:
    store = create_storage("", instance)
    assert isinstance(store, FileStorage)
    await store.start()
    yield store
    await store.close()


class TestFileStorage(StorageContract):
    pass


def entries(folder: Path) -> dict[str, int]:
    """Every file and folder under `folder`, relative, with its permission bits."""
    return {
        path.relative_to(folder).as_posix(): stat.S_IMODE(path.lstat().st_mode)
        for path in folder.rglob("*")
    }


async def test_files_are_private_and_only_under_the_root(
    storage: FileStorage, tmp_path: Path
) -> None:
    await storage.put(KEY, TEN, "image/png")
    await storage.put(THUMBNAIL, TEN, "image/webp")
    for key in BAD_KEYS:
        with pytest.raises(ValueError, match="storage key"):
            await storage.put(key, b"evil", "image/png")
    everything = entries(tmp_path)
    assert [name for name in everything if not name.startswith("instance/uploads")] == ["instance"]
    assert entries(storage.root) == {
        "ab": 0o700,
        "ab/abcdef0123456789": 0o700,
        KEY: 0o600,
        THUMBNAIL: 0o600,
    }
    assert everything["instance/uploads"] == 0o700


async def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    storage: FileStorage,
) -> None:
    await storage.put(KEY, TEN, "image/png")
    with pytest.raises(TypeError):
        await storage.put(KEY, "text is not bytes", "image/png")  # type: ignore[arg-type]
    assert await read_all(storage, KEY) == TEN
    assert sorted(entries(storage.root)) == ["ab", "ab/abcdef0123456789", KEY]


async def test_delete_removes_the_folders_it_emptied_and_keeps_the_root(
    storage: FileStorage,
) -> None:
    await storage.put(KEY, TEN, "image/png")
    await storage.put(THUMBNAIL, TEN, "image/png")
    await storage.put("ab/other/original", TEN, "image/png")
    await storage.delete([KEY])
    assert sorted(entries(storage.root)) == [
        "ab", "ab/abcdef0123456789", f"{THUMBNAIL}", "ab/other", "ab/other/original",
    ]  # fmt: skip
    await storage.delete([THUMBNAIL])
    assert sorted(entries(storage.root)) == ["ab", "ab/other", "ab/other/original"]
    await storage.delete(["ab/other/original"])
    assert entries(storage.root) == {}
    assert storage.root.is_dir()
    await storage.put(KEY, TEN, "image/png")  # the folders come back when needed
    assert await read_all(storage, KEY) == TEN


async def test_a_folder_is_not_a_stored_file(storage: FileStorage) -> None:
    await storage.put(KEY, TEN, "image/png")
    with pytest.raises(StoredFileMissing):
        await read_all(storage, "ab/abcdef0123456789")
    await storage.delete(["ab/abcdef0123456789"])
    assert await read_all(storage, KEY) == TEN


@pytest.fixture
def file_in_the_way(instance: Path) -> Path:
    instance.mkdir()
    (instance / "uploads").write_text("a file where the folder should be")
    return instance


async def test_start_says_plainly_when_the_folder_cannot_be_used(file_in_the_way: Path) -> None:
    store = create_storage("", file_in_the_way)
    with pytest.raises(StorageError, match=r"cannot use the folder .*/instance/uploads"):
        await store.start()


@pytest.mark.parametrize(
    ("url", "folder"),
    [
        ("", "INSTANCE/uploads"),
        ("file://", "INSTANCE/uploads"),
        ("file://uploads", "INSTANCE/uploads"),
        ("file://data/attachments", "INSTANCE/data/attachments"),
        ("file://../shared/uploads", "TMP/shared/uploads"),
        ("file:///srv/helpdesk/uploads", "/srv/helpdesk/uploads"),
        ("file:///srv/campus%20files/", "/srv/campus files"),
    ],
)
def test_a_file_url_names_an_absolute_folder_or_one_in_the_instance(
    url: str, folder: str, instance: Path, tmp_path: Path
) -> None:
    expected = Path(folder.replace("INSTANCE", str(instance)).replace("TMP", str(tmp_path)))
    store = create_storage(url, instance)
    assert isinstance(store, FileStorage)
    assert store.root == expected
    assert store.description == f"files under {expected}"
    assert not instance.exists()  # choosing the backend makes nothing


@pytest.mark.parametrize(
    "url",
    [
        "memory://",
        "/srv/uploads",
        "ftp://user:hunter2@host/uploads",
        "S3://bucket",
        "hunter2",
        "file:///srv/uploads?mode=fast",
        "file:///srv/up#loads",
        "file:///srv/up%00loads",
    ],
)
def test_a_storage_url_of_another_kind_is_refused_in_plain_words(url: str, instance: Path) -> None:
    with pytest.raises(ValueError, match="HELPDESK_STORAGE_URL") as refused:
        create_storage(url, instance)
    assert "hunter2" not in str(refused.value)  # the message never repeats what may be secret
