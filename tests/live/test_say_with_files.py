"""The socket's `say` with files: the same rules as the API, answered in-band."""

from __future__ import annotations

import io

from quart.datastructures import FileStorage

from helpdesk.models import Message
from tests.conftest import create_ticket
from tests.live.helpers import FrameReader
from tests.uploads import samples


async def uploaded(client, ticket_id: int) -> dict:
    response = await client.post(
        f"/api/v1/tickets/{ticket_id}/attachments",
        files={"file": FileStorage(io.BytesIO(samples.png_with_text()), filename="shot.png")},
    )
    assert response.status_code == 201
    return await response.get_json()


async def test_a_say_with_a_file_is_broadcast_with_it_and_retried_once(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    room = f"ticket:{ticket['id']}"
    photo = await uploaded(cast.reporter.client, ticket["id"])
    async with (
        cast.reporter.client.websocket("/ws") as reporter_ws,
        cast.staff.client.websocket("/ws") as staff_ws,
    ):
        reporter, staff = FrameReader(reporter_ws), FrameReader(staff_ws)
        await reporter.join(room)
        await staff.join(room)
        frame = {"op": "say", "room": room, "attachment_ids": [photo["id"]], "client_id": "f1"}
        await reporter.send(frame)
        ack = await reporter.until("ack")
        event = await staff.until("event", kind="message.created")
        assert event["data"]["attachments"] == [photo]
        assert event["data"]["body"] == ""
        await reporter.send(frame)  # the ack was lost: the same message, acked again
        assert (await reporter.until("ack"))["message_id"] == ack["message_id"]
    assert await Message.all().count() == 1


async def test_a_say_with_someone_elses_file_is_refused_and_the_socket_stays_open(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    room = f"ticket:{ticket['id']}"
    staff_photo = await uploaded(cast.staff.client, ticket["id"])
    async with cast.reporter.client.websocket("/ws") as ws:
        reader = FrameReader(ws)
        await reader.join(room)
        await reader.send(
            {"op": "say", "room": room, "attachment_ids": [staff_photo["id"]], "client_id": "x"}
        )
        error = await reader.until("error")
        assert (error["code"], error["client_id"]) == ("bad_request", "x")
        await reader.send({"op": "say", "room": room, "client_id": "y"})
        empty = await reader.until("error")
        assert empty["detail"] == "write a message or attach a file"
        await reader.send({"op": "ping"})
        assert await reader.until("pong")
    assert await Message.all().count() == 0
