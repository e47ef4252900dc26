"""A real S3 for the tests: moto's server (`ThreadedMotoServer`) on a free port of 127.0.0.1,
one for the whole session because starting it costs more than its tests. Each test makes its
own bucket, so none sees another's objects."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

ACCESS_KEY = "moto-access-key"
SECRET_KEY = "moto-secret-key"  # moto takes any; a test that needs none leaves it out of the URL
REGION = "us-east-1"


@dataclass
class MotoS3:
    """The running server and a plain boto3 client for looking behind the backend's back."""

    endpoint: str
    client: Any

    def make_bucket(self) -> str:
        name = f"test-{uuid.uuid4().hex}"
        self.client.create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        """Every object name in `bucket`, as S3 lists them."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def url(self, bucket: str, prefix: str = "", credentials: str | None = None) -> str:
        """A HELPDESK_STORAGE_URL for `bucket` on this server, with the test credentials unless
        `credentials` ("KEY:SECRET", or "" for none) says otherwise."""
        userinfo = f"{ACCESS_KEY}:{SECRET_KEY}" if credentials is None else credentials
        at = f"{userinfo}@" if userinfo else ""
        path = f"/{prefix}" if prefix else ""
        return f"s3://{at}{bucket}{path}?endpoint={self.endpoint}&region={REGION}"


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    try:
        yield MotoS3(endpoint, client)
    finally:
        client.close()
        server.stop()
        _assert_port_free(host, port)


def _assert_port_free(host: str, port: int) -> None:
    """The server's socket is closed once it stops: the next file's tests inherit no port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
