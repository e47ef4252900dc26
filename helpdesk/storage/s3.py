"""The S3 backend: keys as objects in one bucket of AWS S3 or a compatible store (MinIO, Ceph,
Garage), so several hosts share the uploads.

HELPDESK_STORAGE_URL is `s3://[KEY:SECRET@]bucket[/prefix][?endpoint=URL&region=NAME]`:
- KEY:SECRET, percent-encoded (`/` as %2F, `@` as %40); without them botocore's usual chain
  (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, an instance role);
- prefix: objects go under `prefix/`;
- endpoint: the store's address (`http://127.0.0.1:9000`); without it, AWS itself. With one,
  requests use path-style addressing, which every compatible store understands;
- region: us-east-1 unless given.

The bucket must exist already; `start` says plainly when it does not. The helpdesk needs
s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on it: without ListBucket, S3
answers a missing key with 403 instead of 404, which reads here as the store refusing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from . import CHUNK_SIZE, StorageError, StoredFileMissing, check_key, check_range

DELETE_BATCH = 1000  # the most keys one DeleteObjects request may name
CONNECTIONS = 64  # each streamed download holds one for as long as it runs
MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9-]{1,40}")
_SETTING = "HELPDESK_STORAGE_URL"
_BOTO_ERRORS = (BotoCoreError, ClientError)


@dataclass(frozen=True)
class S3Location:
    """Where the objects go and who signs the requests; the secret never shows in a repr."""

    bucket: str
    prefix: str = ""  # "" or ending in "/"
    endpoint: str | None = None
    region: str = "us-east-1"
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return self.endpoint or f"AWS S3 ({self.region})"


def parse_s3_url(url: str) -> S3Location:
    """The location an `s3://` URL names; ValueError in plain words (never repeating the URL,
    which may hold a secret) if it names none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ValueError(f"{_SETTING} is not a URL that can be read") from None
    if parts.scheme != "s3" or parts.fragment:
        raise ValueError(f"{_SETTING} for S3 is s3://bucket[/prefix][?endpoint=...&region=...]")
    userinfo, has_userinfo, bucket = parts.netloc.rpartition("@")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ValueError(
            f"{_SETTING} needs an S3 bucket name after s3://: 3-63 of a-z, 0-9, '.' and '-'"
        )
    access_key = secret_key = None
    if has_userinfo:
        user, _, password = userinfo.partition(":")
        if not user or not password:
            raise ValueError(
                f"{_SETTING} credentials are written s3://KEY:SECRET@bucket, percent-encoded"
            )
        access_key, secret_key = unquote(user), unquote(password)
    return S3Location(
        bucket=bucket,
        prefix=_prefix(parts.path),
        access_key=access_key,
        secret_key=secret_key,
        **_options(parts.query),
    )


def _prefix(path: str) -> str:
    prefix = path.strip("/")
    if not prefix:
        return ""
    try:
        check_key(prefix)
    except ValueError:
        raise ValueError(
            f"{_SETTING} prefix (after the bucket) must be segments of A-Z, a-z, 0-9, '_' and '-'"
        ) from None
    return prefix + "/"


def _options(query: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in {"endpoint", "region"} or name in options:
            raise ValueError(f"{_SETTING} takes endpoint= and region= once each, not {name!r}")
        options[name] = value
    if "endpoint" in options:
        options["endpoint"] = _endpoint(options["endpoint"])
    if "region" in options and not _REGION.fullmatch(options["region"]):
        raise ValueError(f"{_SETTING} region= must be a region name like us-east-1")
    return options


def _endpoint(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(f"{_SETTING} endpoint= is not a URL that can be read") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{_SETTING} endpoint= must be an http:// or https:// address")
    if "@" in parts.netloc:
        raise ValueError(f"{_SETTING} credentials go in s3://KEY:SECRET@bucket, not endpoint=")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError(f"{_SETTING} endpoint= is a scheme, host and port only")
    return f"{parts.scheme}://{parts.netloc}"


class S3Storage:
    """Keys as objects `prefix + key` in one bucket, through one client from start to close."""

    def __init__(self, location: S3Location) -> None:
        self.location = location
        under = f" under {location.prefix}" if location.prefix else ""
        self.description = f"s3 bucket {location.bucket}{under} at {location.address}"
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The aiobotocore S3 client, open between `start` and `close`."""
        if self._client is None:
            raise RuntimeError("start the storage before using it")
        return self._client

    async def start(self) -> None:
        if self._client is not None:
            return
        where = self.location
        stack = AsyncExitStack()
        try:
            client = await stack.enter_async_context(self._create_client())
            await client.head_bucket(Bucket=where.bucket)
        except _BOTO_ERRORS as error:
            await stack.aclose()
            raise StorageError(
                f"the bucket {where.bucket} does not exist or cannot be reached at "
                f"{where.address}: {self._plain(error)}"
            ) from error
        except BaseException:
            await stack.aclose()
            raise
        self._stack, self._client = stack, client

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self._name(key)
        try:
            await self.client.put_object(
                Bucket=self.location.bucket, Key=name, Body=data, ContentType=content_type
            )
        except _BOTO_ERRORS as error:
            raise self._failure(f"cannot store {key}", error) from error

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        name = self._name(key)
        check_range(start, end)
        return self._chunks(key, name, start, end)

    async def delete(self, keys: Sequence[str]) -> None:
        names = list(dict.fromkeys(self._name(key) for key in keys))  # all checked first
        for first in range(0, len(names), DELETE_BATCH):
            batch = names[first : first + DELETE_BATCH]
            try:
                response = await self.client.delete_objects(
                    Bucket=self.location.bucket,
                    Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True},
                )
            except _BOTO_ERRORS as error:
                raise self._failure("cannot delete", error) from error
            if errors := response.get("Errors"):
                refused = errors[0]
                raise StorageError(
                    f"the bucket {self.location.bucket} refused to delete {len(errors)} of "
                    f"{len(batch)} keys, {refused.get('Key')}: {refused.get('Code')} "
                    f"{refused.get('Message', '')}".rstrip()
                )

    async def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            await self.client.head_object(Bucket=self.location.bucket, Key=name)
        except ClientError as error:
            if _code(error) in MISSING_KEY_CODES:
                return False
            raise self._failure(f"cannot look up {key}", error) from error
        except BotoCoreError as error:
            raise self._failure(f"cannot look up {key}", error) from error
        return True

    async def _chunks(
        self, key: str, name: str, start: int, end: int | None
    ) -> AsyncIterator[bytes]:
        if end == start:  # nothing to read, but a missing key is still missing
            if not await self.exists(key):
                raise StoredFileMissing(f"no stored file {key}")
            return
        extra = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = await self.client.get_object(Bucket=self.location.bucket, Key=name, **extra)
        except ClientError as error:
            if _code(error) in MISSING_KEY_CODES:
                raise StoredFileMissing(f"no stored file {key}") from error
            if _code(error) == "InvalidRange":
                return  # the range starts at or past the end
            raise self._failure(f"cannot read {key}", error) from error
        except BotoCoreError as error:
            raise self._failure(f"cannot read {key}", error) from error
        body = response["Body"]
        async with body:  # not `as`: before aiobotocore 3, that gives the raw aiohttp response
            try:
                async for chunk in body.iter_chunks(CHUNK_SIZE):
                    yield chunk
            except BotoCoreError as error:
                raise self._failure(f"cannot read {key}", error) from error

    def _create_client(self) -> Any:
        where = self.location
        options: dict[str, Any] = {}
        # Compatible stores often refuse the checksums botocore adds by default since 1.36 (older
        # versions add none, and know no such option); TLS already guards the bytes on the way.
        for option in ("request_checksum_calculation", "response_checksum_validation"):
            if option in Config.OPTION_DEFAULTS:
                options[option] = "when_required"
        config = AioConfig(
            connect_timeout=5,
            read_timeout=30,
            retries={"mode": "standard", "max_attempts": 3},
            max_pool_connections=CONNECTIONS,
            s3={"addressing_style": "path"} if where.endpoint else None,
            **options,
        )
        return get_session().create_client(
            "s3",
            region_name=where.region,
            endpoint_url=where.endpoint,
            aws_access_key_id=where.access_key,
            aws_secret_access_key=where.secret_key,
            config=config,
        )

    def _name(self, key: str) -> str:
        return self.location.prefix + check_key(key)

    def _failure(self, what: str, error: Exception) -> StorageError:
        return StorageError(f"{what} in the bucket {self.location.bucket}: {self._plain(error)}")

    def _plain(self, error: Exception) -> str:
        """The error in words, with the secret blanked should a library ever repeat it."""
        text = str(error) or error.__class__.__name__
        secret = self.location.secret_key
        return text.replace(secret, "***") if secret else text


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
