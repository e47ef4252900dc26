"""The report form and the reply form without JavaScript: files in a real multipart body,
stored and attached on sending; a refused file comes back beside the picker with everything
typed and every file already stored kept."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import pytest
from PIL import ExifTags, Image
from werkzeug.datastructures import FileStorage, Headers
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartEncoder, Preamble

from helpdesk.models import Attachment, Message, Ticket
from tests.conftest import TICKET, create_ticket

BOUNDARY = "----helpdesk-form"
HTML_AS_PNG = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    """Files of at most 1 MB, so a "too large" one is small to send."""
    return {**app_settings, "max_upload_mb": 1}


def photo(color: str = "red", size: tuple[int, int] = (640, 480)) -> bytes:
    """A phone's JPEG, with the place it was taken in its EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Campus Phone"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
    }
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif)
    return out.getvalue()


def upload(data: bytes, filename: str, content_type: str = "image/jpeg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=filename, content_type=content_type)


def multipart(fields: dict[str, str], files: list[tuple[str, bytes, str]]) -> dict[str, Any]:
    """A browser's multipart body with several files in the one picker (the test client's
    `files=` takes one per field name)."""
    encoder = MultipartEncoder(BOUNDARY.encode())
    body = encoder.send_event(Preamble(data=b""))
    for name, value in fields.items():
        body += encoder.send_event(Field(name=name, headers=Headers()))
        body += encoder.send_event(Data(data=value.encode(), more_data=False))
    for filename, data, content_type in files:
        headers = Headers({"Content-Type": content_type})
        body += encoder.send_event(File(name="files", filename=filename, headers=headers))
        body += encoder.send_event(Data(data=data, more_data=False))
    body += encoder.send_event(Epilogue(data=b""))
    return {"data": body, "headers": {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}}


REPORT = {"title": TICKET["title"], "description": TICKET["description"], "category": "it"}


async def text(response) -> str:
    return await response.get_data(as_text=True)


def kept_ids(page: str) -> list[int]:
    return [int(each) for each in re.findall(r'name="attachment_ids" value="(\d+)" checked', page)]


async def test_a_report_sent_without_scripts_carries_its_photo_without_its_gps(cast):
    response = await cast.reporter.client.post(
        "/tickets/new", form=REPORT, files={"files": upload(photo(), "radiator.jpg")}
    )
    assert response.status_code == 302, await text(response)
    ticket_id = int(response.headers["Location"].rsplit("/", 1)[1])
    ticket = await (await cast.staff.client.get(f"/api/v1/tickets/{ticket_id}")).get_json()
    (attached,) = ticket["attachments"]
    assert attached["filename"] == "radiator.jpg"
    assert (attached["width"], attached["height"]) == (640, 480)
    served = await cast.staff.client.get(attached["url"])
    assert served.status_code == 200
    assert served.content_type == "image/jpeg"
    image = Image.open(io.BytesIO(await served.get_data()))
    assert image.size == (640, 480)
    assert not image.getexif(), "the stored photo still has EXIF"

    # The ticket page shows it under the description, scaled to its box; the board counts it.
    page = await text(await cast.staff.client.get(f"/tickets/{ticket_id}"))
    thumbnail = re.search(r'<a class="attachment-thumb" href="([^"]+)"[^>]*><img ([^>]+)>', page)
    assert thumbnail is not None, "no thumbnail on the ticket page"
    assert thumbnail.group(1) == attached["url"]
    assert f'src="{attached["thumbnail_url"]}"' in thumbnail.group(2)
    assert 'alt="radiator.jpg"' in thumbnail.group(2)
    assert 'width="240" height="180"' in thumbnail.group(2)
    assert 'loading="lazy"' in thumbnail.group(2)
    board = await text(await cast.staff.client.get("/board"))
    card = re.search(rf'data-ticket-id="{ticket_id}".*?</li>', board, re.S)
    assert card is not None
    assert 'class="card-files"' in card.group(0)
    assert "📎</span> 1" in card.group(0)


async def test_a_report_without_files_still_works_from_a_plain_form(cast):
    response = await cast.reporter.client.post("/tickets/new", form=REPORT)
    assert response.status_code == 302
    ticket = await Ticket.get()
    assert ticket.attachments is None


async def test_a_refused_file_is_named_beside_the_picker_and_nothing_is_reported(cast):
    fields = {**REPORT, "location": "Dorm B, room 214"}
    response = await cast.reporter.client.post(
        "/tickets/new", form=fields, files={"files": upload(HTML_AS_PNG, "photo.png", "image/png")}
    )
    assert response.status_code == 415
    page = html.unescape(await text(response))
    problem = re.search(r'<p class="field-error" id="files-error">([^<]+)</p>', page)
    assert problem is not None, "no error beside the file picker"
    assert problem.group(1).startswith("photo.png: this file is not a photo or a PDF")
    assert 'aria-invalid="true"' in re.search(r'<input id="files"[^>]*>', page).group(0)
    assert f'value="{TICKET["title"]}"' in page
    assert TICKET["description"] in page
    assert 'value="Dorm B, room 214"' in page
    assert 'value="it" required checked' in page
    assert await Ticket.all().count() == 0
    assert await Attachment.all().count() == 0


async def test_a_file_too_large_comes_back_with_the_form_kept(cast):
    too_large = b"\xff\xd8\xff" + bytes(1536 * 1024)
    response = await cast.reporter.client.post(
        "/tickets/new", form=REPORT, files={"files": upload(too_large, "big.jpg")}
    )
    assert response.status_code == 413
    page = html.unescape(await text(response))
    assert 'id="files-error">big.jpg is 1.5 MB; files may be at most 1.0 MB.</p>' in page
    assert f'value="{TICKET["title"]}"' in page
    assert await Ticket.all().count() == 0


async def test_the_good_photo_is_kept_when_another_is_refused_and_sent_on_the_next_try(cast):
    body = multipart(
        REPORT,
        [("leak.jpg", photo("blue"), "image/jpeg"), ("page.png", HTML_AS_PNG, "image/png")],
    )
    response = await cast.reporter.client.post("/tickets/new", **body)
    assert response.status_code == 415
    page = html.unescape(await text(response))
    assert "page.png: this file is not a photo or a PDF" in page
    (kept,) = kept_ids(page)
    assert "leak.jpg" in page
    assert await Ticket.all().count() == 0

    # The next try sends the ticked box (and no file): the report comes with the kept photo.
    again = await cast.reporter.client.post(
        "/tickets/new", form={**REPORT, "attachment_ids": str(kept)}
    )
    assert again.status_code == 302, await text(again)
    ticket = await Ticket.get()
    assert [each["id"] for each in ticket.attachments] == [kept]
    assert (await Attachment.get(id=kept)).ticket_id == ticket.id


async def test_a_form_with_a_missing_field_keeps_the_photo_it_carried(cast):
    response = await cast.reporter.client.post(
        "/tickets/new",
        form={"description": "No title given", "category": "it"},
        files={"files": upload(photo(), "radiator.jpg")},
    )
    assert response.status_code == 400
    page = await text(response)
    assert 'id="title-error"' in page
    (kept,) = kept_ids(page)
    assert (await Attachment.get(id=kept)).attached_at is None


async def test_someone_elses_upload_id_is_not_attached_to_a_report(cast):
    theirs = await cast.other.client.post(
        "/api/v1/attachments", files={"file": upload(photo(), "mine.jpg")}
    )
    assert theirs.status_code == 201
    their_id = (await theirs.get_json())["id"]
    response = await cast.reporter.client.post(
        "/tickets/new", form={**REPORT, "attachment_ids": str(their_id)}
    )
    assert response.status_code == 400
    page = await text(response)
    assert re.search(r'id="files-error">[^<]*not one of your uploads', page)
    assert kept_ids(page) == []
    assert await Ticket.all().count() == 0


async def test_a_reply_without_scripts_can_be_a_photo_alone(cast):
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.staff.client.post(
        f"/tickets/{ticket['id']}/messages",
        form={"body": ""},
        files={"files": upload(photo("green"), "valve.jpg")},
    )
    assert response.status_code == 302, await text(response)
    assert response.headers["Location"].endswith("#latest")
    listed = await (
        await cast.reporter.client.get(f"/api/v1/tickets/{ticket['id']}/messages")
    ).get_json()
    (message,) = listed["items"]
    assert message["body"] == ""
    assert [each["filename"] for each in message["attachments"]] == ["valve.jpg"]
    page = await text(await cast.reporter.client.get(f"/tickets/{ticket['id']}"))
    assert f'<img src="{message["attachments"][0]["thumbnail_url"]}" alt="valve.jpg"' in page


async def test_a_reply_with_a_refused_file_keeps_its_text_and_sends_nothing(cast):
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.reporter.client.post(
        f"/tickets/{ticket['id']}/messages",
        form={"body": "Here is the screenshot"},
        files={"files": upload(HTML_AS_PNG, "screen.png", "image/png")},
    )
    assert response.status_code == 415
    page = html.unescape(await text(response))
    assert re.search(r'id="files-error">screen.png: this file is not a photo or a PDF', page)
    assert re.search(r'<textarea id="body"[^>]*>Here is the screenshot</textarea>', page)
    assert await Message.all().count() == 0


async def test_a_reply_with_neither_text_nor_file_asks_for_one(cast):
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.reporter.client.post(
        f"/tickets/{ticket['id']}/messages", **multipart({"body": "  "}, [])
    )
    assert response.status_code == 400
    assert 'id="body-error">Write a message or attach a file.</p>' in await text(response)
    assert await Message.all().count() == 0


async def test_a_pdf_in_a_reply_is_listed_by_name_and_size(cast):
    ticket = await create_ticket(cast.reporter.client)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = await cast.reporter.client.post(
        f"/tickets/{ticket['id']}/messages",
        **multipart(
            {"body": "The invoice"},
            [("invoice.pdf", pdf, "application/pdf"), ("leak.jpg", photo(), "image/jpeg")],
        ),
    )
    assert response.status_code == 302, await text(response)
    page = await text(await cast.staff.client.get(f"/tickets/{ticket['id']}"))
    listed = re.search(
        r'<a class="attachment-file" href="(/files/\d+)"><span [^>]*>PDF</span> invoice.pdf</a> '
        r'<span class="attachment-size">1 KB</span>',
        page,
    )
    assert listed is not None, "the PDF is not listed by name and size"
    served = await cast.staff.client.get(listed.group(1))
    assert served.headers["Content-Disposition"].startswith("attachment")
