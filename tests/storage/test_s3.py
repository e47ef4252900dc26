"""The S3 backend against a real S3 server (moto): the storage contract, then what only S3 has:
the bucket check at start, credentials, a prefix, batched deletes and S3's own errors."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from helpdesk.storage import StorageError, StoredFileMissing, create_storage
from helpdesk.storage.s3 import S3Storage, parse_s3_url
from tests.storage.s3_server import ACCESS_KEY, SECRET_KEY, MotoS3
from tests.storage.s3_server import moto_s3 as moto_s3  # the session's server, as a fixture
from tests.storage.test_files import KEY, TEN, THUMBNAIL, StorageContract, read_all

SECRET = "s3cr3t/with+odd@chars"
ENCODED_SECRET = "s3cr3t%2Fwith%2Bodd%40chars"
CREDENTIAL_VARIABLES = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
]


@pytest.fixture
def bucket(moto_s3: MotoS3) -> str:
    return moto_s3.make_bucket()


async def started(url: str, tmp_path: Path) -> S3Storage:
    store = create_storage(url, tmp_path)
    assert isinstance(store, S3Storage)
    await store.start()
    return store


@pytest.fixture
async def storage(moto_s3: MotoS3, bucket: str, tmp_path: Path) -> AsyncIterator[S3Storage]:
    store = await started(moto_s3.url(bucket), tmp_path)
    yield store
    await store.close()


class TestS3Storage(StorageContract):
    pass


@pytest.fixture
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing for botocore's chain to find: no variables, files or instance metadata."""
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def record_access_keys(store: S3Storage) -> list[str]:
    """The access key each request from now on is signed with, from its Authorization header."""
    seen: list[str] = []

    def remember(request: Any, **_: Any) -> None:
        authorization = request.headers["Authorization"]
        if isinstance(authorization, bytes):
            authorization = authorization.decode()
        seen.append(authorization.split("Credential=")[1].split("/")[0])

    store.client.meta.events.register("before-send.s3", remember)
    return seen


async def test_start_names_a_missing_bucket_and_never_the_secret(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    url = moto_s3.url("no-such-bucket", credentials=f"{ACCESS_KEY}:{ENCODED_SECRET}")
    store = create_storage(url, tmp_path)
    assert isinstance(store, S3Storage)
    with pytest.raises(StorageError) as refused:
        await store.start()
    message = str(refused.value)
    assert message.startswith(
        f"the bucket no-such-bucket does not exist or cannot be reached at {moto_s3.endpoint}: "
    )
    for shown in (message, store.description, repr(store.location)):
        assert SECRET not in shown and ENCODED_SECRET not in shown
    with pytest.raises(RuntimeError, match="start the storage"):
        await store.put(KEY, TEN, "image/png")  # nothing half-open was kept


async def test_start_names_the_endpoint_when_nothing_answers_there(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    store = create_storage(f"s3://key:{ENCODED_SECRET}@uploads?endpoint={endpoint}", tmp_path)
    with pytest.raises(StorageError, match=f"the bucket uploads .* at {endpoint}: ") as refused:
        await store.start()
    assert SECRET not in str(refused.value) and ENCODED_SECRET not in str(refused.value)


@pytest.mark.usefixtures("no_ambient_credentials")
async def test_the_urls_credentials_sign_the_requests(
    moto_s3: MotoS3, bucket: str, tmp_path: Path
) -> None:
    store = await started(moto_s3.url(bucket, credentials=f"url-key:{ENCODED_SECRET}"), tmp_path)
    try:
        used = record_access_keys(store)
        await store.put(KEY, TEN, "image/png")
        assert await read_all(store, KEY) == TEN
        assert used == ["url-key", "url-key"]
    finally:
        await store.close()


@pytest.mark.usefixtures("no_ambient_credentials")
async def test_without_credentials_in_the_url_botocores_chain_is_used(
    moto_s3: MotoS3, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = moto_s3.url(bucket, credentials="")
    with pytest.raises(StorageError, match=f"the bucket {bucket} .*credentials"):
        await create_storage(url, tmp_path).start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    store = await started(url, tmp_path)
    try:
        used = record_access_keys(store)
        assert not await store.exists(KEY)
        assert used == ["env-key"]
    finally:
        await store.close()


async def test_a_prefix_in_the_url_puts_the_objects_under_it(
    moto_s3: MotoS3, bucket: str, tmp_path: Path
) -> None:
    store = await started(moto_s3.url(bucket, prefix="campus/uploads/"), tmp_path)
    try:
        await store.put(KEY, TEN, "image/png")
        await store.put(THUMBNAIL, b"small", "image/webp")
        assert moto_s3.keys(bucket) == [f"campus/uploads/{KEY}", f"campus/uploads/{THUMBNAIL}"]
        assert await read_all(store, KEY) == TEN
        assert moto_s3.client.head_object(Bucket=bucket, Key=f"campus/uploads/{THUMBNAIL}")[
            "ContentType"
        ] == "image/webp"  # fmt: skip
        assert store.description.endswith(f" under campus/uploads/ at {moto_s3.endpoint}")
        await store.delete([KEY, THUMBNAIL])
        assert moto_s3.keys(bucket) == []
    finally:
        await store.close()


async def test_delete_names_at_most_1000_keys_a_request(
    storage: S3Storage, moto_s3: MotoS3, bucket: str
) -> None:
    keys = [f"ab/key{number:05d}/original" for number in range(2005)]
    for key in (keys[0], keys[1000], keys[-1]):
        await storage.put(key, TEN, "image/png")
    batches: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        batches.append(len(params["Delete"]["Objects"]))

    storage.client.meta.events.register("provide-client-params.s3.DeleteObjects", count)
    await storage.delete(keys)
    assert batches == [1000, 1000, 5]  # S3 refuses more than 1000 keys in one request
    assert moto_s3.keys(bucket) == []


async def test_a_bucket_gone_after_start_is_a_storage_error_not_a_missing_file(
    storage: S3Storage, moto_s3: MotoS3, bucket: str
) -> None:
    moto_s3.client.delete_bucket(Bucket=bucket)
    with pytest.raises(StorageError, match=f"cannot read {KEY} in the bucket {bucket}") as raised:
        await read_all(storage, KEY)
    assert not isinstance(raised.value, StoredFileMissing)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        await storage.put(KEY, TEN, "image/png")
    with pytest.raises(StorageError, match="NoSuchBucket"):
        await storage.delete([KEY])


async def test_close_twice_is_fine_and_a_closed_store_refuses_work(storage: S3Storage) -> None:
    await storage.close()
    await storage.close()
    with pytest.raises(RuntimeError, match="start the storage"):
        await storage.exists(KEY)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://uploads", ("uploads", "", None, "us-east-1", None, None)),
        (
            "s3://campus.helpdesk/a/b?region=eu-central-1",
            ("campus.helpdesk", "a/b/", None, "eu-central-1", None, None),
        ),
        (
            f"s3://AKID:{ENCODED_SECRET}@uploads/?endpoint=https://minio.campus:9000/",
            ("uploads", "", "https://minio.campus:9000", "us-east-1", "AKID", SECRET),
        ),
    ],
)
def test_an_s3_url_names_bucket_prefix_endpoint_region_and_credentials(
    url: str, expected: tuple[Any, ...]
) -> None:
    where = parse_s3_url(url)
    found = (where.bucket, where.prefix, where.endpoint, where.region)
    assert (*found, where.access_key, where.secret_key) == expected
    assert SECRET not in repr(where)


def test_the_description_names_the_place_but_no_secret(tmp_path: Path) -> None:
    aws = create_storage(f"s3://AKID:{ENCODED_SECRET}@uploads/tickets?region=eu-west-1", tmp_path)
    assert aws.description == "s3 bucket uploads under tickets/ at AWS S3 (eu-west-1)"
    local = create_storage("s3://uploads?endpoint=http://127.0.0.1:9000", tmp_path)
    assert local.description == "s3 bucket uploads at http://127.0.0.1:9000"


@pytest.mark.parametrize(
    "url",
    [
        "s3://",
        "s3://Upper_Case",
        "s3://ab",
        "s3://bad..name",
        f"s3://AKID@uploads?x={ENCODED_SECRET}",
        f"s3://:{ENCODED_SECRET}@uploads",
        f"s3://AKID:{ENCODED_SECRET}@uploads/../escape",
        f"s3://AKID:{ENCODED_SECRET}@uploads/with.dot",
        f"s3://AKID:{ENCODED_SECRET}@uploads?endpoint=ftp://host",
        f"s3://AKID:{ENCODED_SECRET}@uploads?endpoint=http://u:{ENCODED_SECRET}@host",
        f"s3://AKID:{ENCODED_SECRET}@uploads?endpoint=http://host:port",
        f"s3://AKID:{ENCODED_SECRET}@uploads?endpoint=http://host/path",
        f"s3://AKID:{ENCODED_SECRET}@uploads?region=Mars%201",
        f"s3://AKID:{ENCODED_SECRET}@uploads?color=red",
        f"s3://AKID:{ENCODED_SECRET}@uploads?region=a&region=b",
        f"s3://AKID:{ENCODED_SECRET}@uploads#part",
    ],
)
def test_an_unusable_s3_url_is_refused_without_repeating_the_secret(
    url: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="HELPDESK_STORAGE_URL") as refused:
        create_storage(url, tmp_path)
    assert SECRET not in str(refused.value) and ENCODED_SECRET not in str(refused.value)
