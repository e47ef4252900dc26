"""Uploads against a running server: real multipart bodies over HTTP, photos seen live over the
socket, files kept on disk or in a real S3-compatible server, and bodies too large refused before
they are read."""

from __future__ import annotations

import asyncio
import contextlib
import io

import pytest
from PIL import Image

from helpdesk.models import Role
from tests.live.server import LiveServer, Person, prepare_database, server_env
from tests.storage.s3_server import moto_s3  # noqa: F401  (the fixture, shared by the session)
from tests.uploads import samples

REPORTERS = [f"student{n}" for n in range(20)]
LIMIT_MB = 1
pytestmark = pytest.mark.live


@pytest.fixture(scope="module", params=["files", "s3"])
def server(request, tmp_path_factory):
    """One server per storage backend, shared by this module's tests."""
    root = tmp_path_factory.mktemp(f"uploads-{request.param}")
    settings = {"max_upload_mb": str(LIMIT_MB), "chat_messages": "1000"}
    if request.param == "s3":
        s3 = request.getfixturevalue("moto_s3")
        settings["storage_url"] = s3.url(s3.make_bucket())
    env = server_env(root, **settings)
    prepare_database(env, {"sam": Role.STAFF, **dict.fromkeys(REPORTERS, Role.USER)})
    live = LiveServer(root, env).start()
    yield live
    live.stop()


_reporters = iter(REPORTERS * 2)


@pytest.fixture
async def people(server):
    reporter = await Person(server, next(_reporters)).login()
    staff = await Person(server, "sam").login()
    response = await reporter.http.post(
        "/api/v1/tickets",
        json={"title": "Radiator leaking", "description": "Dorm B 214", "category": "facilities"},
    )
    assert response.status_code == 201, response.text
    yield reporter, staff, response.json()
    await reporter.close()
    await staff.close()


async def post_file(person: Person, path: str, data: bytes, filename: str):
    return await person.http.post(path, files={"file": (filename, data, "image/jpeg")})


async def test_a_photo_sent_over_the_socket_is_seen_live_without_its_gps(people):
    reporter, staff, ticket = people
    room = f"ticket:{ticket['id']}"
    r_tab, s_tab = await reporter.socket(), await staff.socket()
    await r_tab.join(room)
    await s_tab.join(room)
    response = await post_file(
        staff, f"/api/v1/tickets/{ticket['id']}/attachments", samples.jpeg_with_gps(), "part.jpg"
    )
    assert response.status_code == 201, response.text
    photo = response.json()
    await s_tab.send(
        {"op": "say", "room": room, "body": "", "attachment_ids": [photo["id"]], "client_id": "p1"}
    )
    heard = await r_tab.until("event", kind="message.created")
    assert heard["data"]["attachments"] == [photo]
    assert (await s_tab.until("ack"))["client_id"] == "p1"
    thumbnail = await reporter.http.get(photo["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/webp"
    original = await reporter.http.get(photo["url"])
    assert original.status_code == 200
    assert not Image.open(io.BytesIO(original.content)).getexif()


async def test_a_report_is_sent_with_the_photo_taken_while_writing_it(people):
    reporter, staff, _ = people
    upload = await post_file(reporter, "/api/v1/attachments", samples.jpeg_with_gps(), "leak.jpg")
    assert upload.status_code == 201, upload.text
    response = await reporter.http.post(
        "/api/v1/tickets",
        json={
            "title": "Leak under the window",
            "description": "Water on the floor",
            "category": "facilities",
            "attachment_ids": [upload.json()["id"]],
        },
    )
    assert response.status_code == 201, response.text
    ticket = response.json()
    seen = (await staff.http.get(f"/api/v1/tickets/{ticket['id']}")).json()
    assert [each["filename"] for each in seen["attachments"]] == ["leak.jpg"]
    ranged = await staff.http.get(seen["attachments"][0]["url"], headers={"Range": "bytes=0-1"})
    assert ranged.status_code == 206 and ranged.content == b"\xff\xd8"


async def test_a_staff_notes_file_never_reaches_the_reporters_socket(people):
    reporter, staff, ticket = people
    room = f"ticket:{ticket['id']}"
    r_tab = await reporter.socket()
    await r_tab.join(room)
    note_file = await post_file(
        staff, f"/api/v1/tickets/{ticket['id']}/attachments", samples.png_with_text(), "note.png"
    )
    photo = note_file.json()
    note = await staff.http.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        json={"body": "internal", "internal": True, "attachment_ids": [photo["id"]]},
    )
    assert note.status_code == 201
    await staff.http.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "public"})
    heard = await r_tab.until("event", kind="message.created")
    assert heard["data"]["body"] == "public"
    assert (await reporter.http.get(photo["url"])).status_code == 404
    _, joined = await r_tab.join(room, since=0)
    assert "note.png" not in str(joined)


async def raw_request(
    server: LiveServer, head: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(head.encode("latin-1"))
    await writer.drain()
    return reader, writer


def request_head(person: Person, path: str, extra: str) -> str:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {person.cookie()}\r\n"
        f"Content-Type: multipart/form-data; boundary=xyz\r\n{extra}\r\n"
    )


async def test_a_body_declared_too_large_is_refused_before_it_is_sent(people, server):
    reporter, _, ticket = people
    path = f"/api/v1/tickets/{ticket['id']}/attachments"
    reader, writer = await raw_request(
        server, request_head(reporter, path, "Content-Length: 1000000000\r\n")
    )
    try:
        status = await asyncio.wait_for(reader.readline(), 10)
        assert status.startswith(b"HTTP/1.1 413"), status
    finally:
        writer.close()


async def test_a_streamed_body_is_cut_off_once_over_the_limit(people, server):
    """A chunked body announces no length: the server counts as it reads and answers 413 long
    before the 200 MB the client would send."""
    reporter, _, ticket = people
    path = f"/api/v1/tickets/{ticket['id']}/attachments"
    reader, writer = await raw_request(
        server, request_head(reporter, path, "Transfer-Encoding: chunked\r\n")
    )
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0

    async def flood() -> None:
        nonlocal sent
        writer.write(b"5\r\n--xyz\r\n")
        opening = b'Content-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
        writer.write(f"{len(opening):x}\r\n".encode() + opening + b"\r\n")
        while sent < 200 * 1024 * 1024:
            writer.write(chunk)
            await writer.drain()
            sent += len(piece)

    sender = asyncio.create_task(flood())
    try:
        status = await asyncio.wait_for(reader.readline(), 30)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
        writer.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    assert sent < 200 * 1024 * 1024
