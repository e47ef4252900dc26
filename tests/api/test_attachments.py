"""Attachments over the API: uploading, attaching to reports and messages, who may see a file,
serving it (ranges, ETags, headers), taking uploads back and sweeping the forgotten ones."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from quart.datastructures import FileStorage

from helpdesk.models import Attachment, Message, Ticket, utcnow
from tests.conftest import create_ticket, json_of
from tests.uploads import samples

HTML_PAGE = b"<!doctype html><html><script>alert(document.cookie)</script></html>"


@pytest.fixture
def app_settings(app_settings):
    """Small limits, so going over them takes little memory."""
    return {
        **app_settings,
        "max_upload_mb": 1,
        "attachments_per_message": 2,
        "message_upload_mb": 2,
    }


def upload_file(data: bytes, filename: str, content_type: str = "application/octet-stream"):
    return {"file": FileStorage(io.BytesIO(data), filename=filename, content_type=content_type)}


async def upload(client, data: bytes, filename: str, *, ticket_id: int | None = None):
    path = f"/api/v1/tickets/{ticket_id}/attachments" if ticket_id else "/api/v1/attachments"
    return await client.post(path, files=upload_file(data, filename))


async def uploaded(client, data: bytes, filename: str, *, ticket_id: int | None = None) -> dict:
    response = await upload(client, data, filename, ticket_id=ticket_id)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def say(client, ticket_id: int, **body):
    return await client.post(f"/api/v1/tickets/{ticket_id}/messages", json=body)


async def content(client, url: str, **headers) -> tuple[int, bytes, dict]:
    response = await client.get(url, headers=headers)
    return response.status_code, await response.get_data(), response.headers


async def test_a_photo_sent_in_the_chat_reaches_the_other_side_without_its_gps(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    photo = await uploaded(
        cast.reporter.client, samples.jpeg_with_gps(), "radiator.JPG", ticket_id=ticket["id"]
    )
    assert photo["filename"] == "radiator.jpg"
    assert photo["content_type"] == "image/jpeg"
    assert photo["url"] == f"/files/{photo['id']}"
    assert photo["thumbnail_url"] == f"/files/{photo['id']}/thumbnail"
    response = await say(cast.reporter.client, ticket["id"], attachment_ids=[photo["id"]])
    assert response.status_code == 201, await response.get_data(as_text=True)
    message = await response.get_json()
    assert message["body"] == ""
    assert message["attachments"] == [photo]

    listed = await json_of(await cast.staff.client.get(f"/api/v1/tickets/{ticket['id']}/messages"))
    assert listed["items"][-1]["attachments"] == [photo]
    status, data, headers = await content(cast.staff.client, photo["url"])
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in headers["Cache-Control"]
    assert headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in headers["Content-Security-Policy"]
    image = Image.open(io.BytesIO(data))
    assert not image.getexif()
    assert b"Exif" not in data
    status, thumbnail, headers = await content(cast.staff.client, photo["thumbnail_url"])
    assert status == 200 and headers["Content-Type"] == "image/webp"
    assert max(Image.open(io.BytesIO(thumbnail)).size) <= 480


async def test_a_report_carries_the_photos_uploaded_before_it_existed(app, cast):
    photo = await uploaded(cast.reporter.client, samples.png_with_text(), "leak.png")
    ticket = await create_ticket(cast.reporter.client, attachment_ids=[photo["id"]])
    assert ticket["attachments"] == [photo]
    seen = await json_of(await cast.staff.client.get(f"/api/v1/tickets/{ticket['id']}"))
    assert seen["attachments"] == [photo]
    board = await json_of(await cast.staff.client.get("/api/v1/tickets"))
    assert board["items"][0]["attachments"] == [photo]
    assert (await content(cast.staff.client, photo["url"]))[0] == 200
    assert (await content(cast.other.client, photo["url"]))[0] == 404


async def test_an_upload_is_its_uploaders_alone_until_it_is_sent(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    photo = await uploaded(
        cast.staff.client, samples.png_with_text(), "part.png", ticket_id=ticket["id"]
    )
    assert (await content(cast.reporter.client, photo["url"]))[0] == 404
    assert (await cast.reporter.client.get(f"/api/v1/attachments/{photo['id']}")).status_code == 404
    # Nobody sends someone else's upload, nor one made for another ticket.
    taken = await say(
        cast.reporter.client, ticket["id"], body="mine?", attachment_ids=[photo["id"]]
    )
    assert taken.status_code == 400
    assert (await json_of(taken))["error"]["field"] == "attachment_ids"
    other = await create_ticket(cast.reporter.client)
    elsewhere = await say(cast.staff.client, other["id"], attachment_ids=[photo["id"]])
    assert elsewhere.status_code == 400
    assert await Message.all().count() == 0
    sent = await say(
        cast.staff.client, ticket["id"], body="This part", attachment_ids=[photo["id"]]
    )
    assert sent.status_code == 201
    assert (await content(cast.reporter.client, photo["url"]))[0] == 200


async def test_a_staff_notes_file_is_not_found_for_the_reporter_on_every_path(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    photo = await uploaded(
        cast.staff.client, samples.png_with_text(), "rude.png", ticket_id=ticket["id"]
    )
    note = await say(
        cast.staff.client, ticket["id"], body="see", internal=True, attachment_ids=[photo["id"]]
    )
    assert note.status_code == 201
    for url in (photo["url"], photo["thumbnail_url"], f"/api/v1/attachments/{photo['id']}"):
        assert (await content(cast.reporter.client, url))[0] == 404
        assert (await content(cast.staff.client, url))[0] == 200
    messages = await json_of(
        await cast.reporter.client.get(f"/api/v1/tickets/{ticket['id']}/messages")
    )
    assert messages["items"] == []
    activity = await cast.reporter.client.get("/api/v1/activity")
    assert "rude.png" not in await activity.get_data(as_text=True)


async def test_one_file_is_sent_once(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    photo = await uploaded(
        cast.reporter.client, samples.png_with_text(), "a.png", ticket_id=ticket["id"]
    )
    first = await say(cast.reporter.client, ticket["id"], attachment_ids=[photo["id"]])
    assert first.status_code == 201
    again = await say(cast.reporter.client, ticket["id"], attachment_ids=[photo["id"]])
    assert again.status_code == 409
    twice = await say(cast.reporter.client, ticket["id"], attachment_ids=[photo["id"], photo["id"]])
    assert twice.status_code == 400
    assert await Message.all().count() == 1


async def test_a_retried_message_with_files_is_stored_once(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    photo = await uploaded(
        cast.reporter.client, samples.png_with_text(), "a.png", ticket_id=ticket["id"]
    )
    body = {"body": "here", "attachment_ids": [photo["id"]], "client_id": "retry-1"}
    first = await say(cast.reporter.client, ticket["id"], **body)
    second = await say(cast.reporter.client, ticket["id"], **body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert (await json_of(first))["id"] == (await json_of(second))["id"]
    assert (await json_of(second))["attachments"][0]["id"] == photo["id"]


async def test_a_message_needs_text_or_a_file(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    response = await say(cast.reporter.client, ticket["id"], body="  ")
    assert response.status_code == 400
    assert (await json_of(response))["error"]["detail"] == "write a message or attach a file"


@pytest.mark.parametrize(
    ("make", "filename", "words"),
    [
        (samples.png_with_text, "invoice.pdf", "PNG"),
        (lambda: HTML_PAGE, "photo.png", "not a photo or a PDF"),
        (samples.zip_bomb, "photos.jpg", "not a photo or a PDF"),
        (lambda: samples.png_claiming(60_000, 60_000), "huge.png", "too large"),
    ],
)
async def test_files_that_are_not_what_they_claim_are_refused_in_plain_words(
    app, cast, make, filename, words
):
    ticket = await create_ticket(cast.reporter.client)
    response = await upload(cast.reporter.client, make(), filename, ticket_id=ticket["id"])
    assert response.status_code in (413, 415)
    error = (await json_of(response))["error"]
    assert words in error["detail"]
    assert error["field"] == "file"
    assert await Attachment.all().count() == 0


async def test_a_pdf_is_always_a_download(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    pdf = await uploaded(
        cast.reporter.client, samples.pdf(), "Rechnung März.pdf", ticket_id=ticket["id"]
    )
    assert pdf["thumbnail_url"] is None and pdf["width"] is None
    await say(cast.reporter.client, ticket["id"], attachment_ids=[pdf["id"]])
    status, data, headers = await content(cast.staff.client, pdf["url"])
    assert status == 200 and data == samples.pdf()
    assert headers["Content-Type"] == "application/pdf"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf" in disposition
    assert (await content(cast.staff.client, f"{pdf['url']}/thumbnail"))[0] == 404


async def test_files_are_served_by_range_and_revalidated_by_etag(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    pdf = await uploaded(cast.reporter.client, samples.pdf(), "scan.pdf", ticket_id=ticket["id"])
    whole = samples.pdf()
    status, part, headers = await content(cast.reporter.client, pdf["url"], Range="bytes=2-9")
    assert status == 206 and part == whole[2:10]
    assert headers["Content-Range"] == f"bytes 2-9/{len(whole)}"
    status, tail, _ = await content(cast.reporter.client, pdf["url"], Range="bytes=-5")
    assert status == 206 and tail == whole[-5:]
    status, _, headers = await content(
        cast.reporter.client, pdf["url"], Range=f"bytes={len(whole) + 10}-"
    )
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(whole)}"
    _, _, headers = await content(cast.reporter.client, pdf["url"])
    etag = headers["ETag"]
    status, body, _ = await content(cast.reporter.client, pdf["url"], **{"If-None-Match": etag})
    assert status == 304 and body == b""
    status, body, _ = await content(
        cast.reporter.client, pdf["url"], Range="bytes=0-3", **{"If-Range": '"stale"'}
    )
    assert status == 200 and body == whole


async def test_an_upload_not_yet_sent_can_be_taken_back(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    photo = await uploaded(
        cast.reporter.client, samples.png_with_text(), "a.png", ticket_id=ticket["id"]
    )
    assert (await cast.other.client.delete(f"/api/v1/attachments/{photo['id']}")).status_code == 404
    removed = await cast.reporter.client.delete(f"/api/v1/attachments/{photo['id']}")
    assert removed.status_code == 204
    assert (await content(cast.reporter.client, photo["url"]))[0] == 404
    assert not any((app.settings.instance_path / "uploads").rglob("original"))
    sent = await uploaded(
        cast.reporter.client, samples.png_with_text(), "b.png", ticket_id=ticket["id"]
    )
    await say(cast.reporter.client, ticket["id"], attachment_ids=[sent["id"]])
    kept = await cast.reporter.client.delete(f"/api/v1/attachments/{sent['id']}")
    assert kept.status_code == 409


async def test_uploads_never_sent_are_swept_after_a_day(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    old = await uploaded(
        cast.reporter.client, samples.png_with_text(), "old.png", ticket_id=ticket["id"]
    )
    fresh = await uploaded(
        cast.reporter.client, samples.png_with_text(), "new.png", ticket_id=ticket["id"]
    )
    kept = await uploaded(
        cast.reporter.client, samples.png_with_text(), "sent.png", ticket_id=ticket["id"]
    )
    await say(cast.reporter.client, ticket["id"], attachment_ids=[kept["id"]])
    now = utcnow()
    for stale in (old["id"], kept["id"]):  # made two days ago; one of them was sent
        await Attachment.filter(id=stale).update(created_at=now - timedelta(days=2))
    row = await Attachment.get(id=old["id"])
    assert await app.uploads.sweep(now) == 1
    assert {a.id for a in await Attachment.all()} == {fresh["id"], kept["id"]}
    assert not await app.uploads.storage.exists(row.original_key)
    assert (await content(cast.reporter.client, kept["url"]))[0] == 200


async def test_a_closed_ticket_takes_no_files_from_its_reporter(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    for status in ("active", "closed"):
        await cast.staff.client.post(
            f"/api/v1/tickets/{ticket['id']}/status", json={"status": status}
        )
    refused = await upload(
        cast.reporter.client, samples.png_with_text(), "a.png", ticket_id=ticket["id"]
    )
    assert refused.status_code == 409
    assert (
        await upload(cast.other.client, samples.png_with_text(), "a.png", ticket_id=ticket["id"])
    ).status_code == 404
    assert (
        await upload(cast.staff.client, samples.png_with_text(), "a.png", ticket_id=ticket["id"])
    ).status_code == 201


async def test_anonymous_uploads_are_refused(app, cast):
    assert (
        await upload(cast.anonymous.client, samples.png_with_text(), "a.png")
    ).status_code == 401


async def test_a_body_that_is_not_multipart_is_refused(app, cast):
    response = await cast.reporter.client.post("/api/v1/attachments", json={"file": "x"})
    assert response.status_code == 415
    empty = await cast.reporter.client.post("/api/v1/attachments", form={"note": "no file"})
    assert empty.status_code in (400, 415)


async def test_the_size_and_count_limits_hold(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    big = await upload(
        cast.reporter.client,
        b"%PDF-1.4\n" + b"0" * 1_100_000 + b"\n%%EOF",
        "big.pdf",
        ticket_id=ticket["id"],
    )
    assert big.status_code == 413
    assert "1.0 MB" in (await json_of(big))["error"]["detail"]
    ids = [
        (
            await uploaded(
                cast.reporter.client, samples.png_with_text(), f"{n}.png", ticket_id=ticket["id"]
            )
        )["id"]
        for n in range(3)
    ]
    too_many = await say(cast.reporter.client, ticket["id"], attachment_ids=ids)
    assert too_many.status_code == 413
    assert await Message.all().count() == 0
    assert await Ticket.all().count() == 1


async def test_the_api_description_says_uploads_are_multipart_files(app):
    """The upload routes read their bodies themselves; the description still says what to send
    (this also catches quart-schema no longer reading the request attribute it is given)."""
    schema = await json_of(await app.test_client().get("/openapi.json"))
    for path in ("/api/v1/attachments", "/api/v1/tickets/{ticket_id}/attachments"):
        body = schema["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
        assert body["schema"]["properties"]["file"] == {"type": "string", "format": "binary"}
