"""Photos and PDFs in the browser: the report form's picker on a phone, screenshots pasted into
the chat, a refused file, and a photo sent while the socket is down."""

from __future__ import annotations

import io
import re

from PIL import ExifTags, Image
from playwright.sync_api import Page, expect

from tests.browser.test_journey import (
    TICKET_URL,
    api_client,
    assert_not_reloaded,
    card,
    mark_no_reload,
    ready,
)
from tests.browser.test_ticket_page import new_ticket

HTML_AS_PNG = b"<!doctype html><html><body><script>alert(1)</script></body></html>"

# Two screenshots made in the page from canvases, pasted at once as a browser pastes files.
PASTE = """async (names) => {
  const files = new DataTransfer();
  for (const [index, name] of names.entries()) {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 200;
    const drawing = canvas.getContext("2d");
    drawing.fillStyle = ["#1d4ed8", "#b42318"][index % 2];
    drawing.fillRect(0, 0, 320, 200);
    const blob = await new Promise((done) => canvas.toBlob(done, "image/png"));
    files.items.add(new File([blob], name, { type: "image/png" }));
  }
  const composer = document.querySelector("#body");
  composer.focus();
  const paste = new ClipboardEvent("paste", { clipboardData: files, bubbles: true });
  composer.dispatchEvent(paste);
}"""

# A PDF dropped from the desktop onto the report form.
DROP = """(pdf) => {
  const files = new DataTransfer();
  files.items.add(new File([pdf], "receipt.pdf", { type: "application/pdf" }));
  const form = document.querySelector("#report-form");
  const options = { dataTransfer: files, bubbles: true, cancelable: true };
  const drag = (type) => new DragEvent(type, options);
  const taken = !form.dispatchEvent(drag("dragover")); // refused by default: taken if prevented
  const dropping = form.classList.contains("dropping");
  form.dispatchEvent(drag("drop"));
  return taken && dropping;
}"""
PDF = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def phone_photo() -> bytes:
    """What a phone's camera saves: a JPEG with where it was taken in its EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Campus Phone"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "#8a5a00").save(out, "JPEG", exif=exif)
    return out.getvalue()


def tray_item(page: Page, filename: str):
    return page.locator(".attach-item").filter(has_text=filename)


def uploaded(page: Page, filename: str):
    """The tray's item for `filename`, once its upload has finished."""
    item = tray_item(page, filename)
    expect(item.locator(".attach-state")).to_have_text("Ready to send")
    expect(item.locator("progress")).to_have_js_property("value", 100)
    return item


def test_a_student_photographs_the_radiator_and_staff_open_the_photo_from_the_board(
    open_session, live
):
    alice = open_session("alice", phone=True)
    page = alice.page
    page.goto("/tickets/new")
    ready(page)
    page.get_by_label("What is the problem?").fill("Radiator leaking in Dorm B room 214")
    page.get_by_label("Details").fill("Water under the window since this morning.")
    page.get_by_label("Facilities", exact=True).check()
    picker = page.get_by_label("Photos or PDFs")
    expect(picker).to_have_attribute("accept", "image/*,application/pdf")
    photo = phone_photo()
    picker.set_input_files({"name": "radiator.jpg", "mimeType": "image/jpeg", "buffer": photo})

    item = uploaded(page, "radiator.jpg")
    preview = item.locator("img.attach-thumb")
    expect(preview).to_have_attribute("src", re.compile(r"^blob:"))
    expect(preview).not_to_have_js_property("naturalWidth", 0)  # the page's CSP lets it show
    expect(item.get_by_role("button", name="Remove radiator.jpg")).to_be_visible()
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url(TICKET_URL)
    ticket_id = int(TICKET_URL.match(page.url).group(1))
    expect(page.locator(".description").get_by_role("link", name="radiator.jpg")).to_be_visible()

    sam = open_session("sam")
    sam.page.goto("/board")
    ready(sam.page)
    expect(card(sam.page, ticket_id).locator(".card-files")).to_have_text("📎 1 file")
    card(sam.page, ticket_id).get_by_role("link").first.click()
    sam.page.wait_for_url(f"**/tickets/{ticket_id}")
    thumbnail = sam.page.locator(".description").get_by_role("link", name="radiator.jpg")
    image = thumbnail.locator("img")
    expect(image).to_have_js_property("naturalWidth", 480)  # the server's thumbnail, loaded
    expect(image).to_have_attribute("width", "240")
    expect(image).to_have_attribute("height", "180")
    with sam.context.expect_page() as opened:
        thumbnail.click()
    full = opened.value
    full.wait_for_load_state()
    file_url = thumbnail.get_attribute("href")
    assert full.url == f"{live.url}{file_url}"
    assert full.evaluate("document.contentType") == "image/jpeg"
    assert full.evaluate("document.images[0].naturalWidth") == 640

    served = sam.page.request.get(file_url)
    assert served.status == 200
    stored = Image.open(io.BytesIO(served.body()))
    assert stored.size == (640, 480)
    assert not stored.getexif(), "the served photo still carries EXIF"
    assert b"Exif" not in served.body()


def test_staff_paste_screenshots_remove_one_send_one_and_the_student_sees_it_live(
    open_session, live
):
    ticket_id = new_ticket(live, "ben", "Projector in room 3.14 shows no picture")
    ben = open_session("ben")
    ben.page.goto(f"/tickets/{ticket_id}")
    ready(ben.page)
    mark_no_reload(ben.page)
    priya = open_session("priya")
    priya.page.goto(f"/tickets/{ticket_id}")
    ready(priya.page)
    expect(ben.page.locator("#viewers")).to_contain_text("Priya")

    priya.page.evaluate(PASTE, ["cable.png", "panel.png"])
    cable = uploaded(priya.page, "cable.png")
    uploaded(priya.page, "panel.png")
    expect(cable.locator("img.attach-thumb")).to_have_attribute("src", re.compile(r"^blob:"))
    removed_id = cable.get_attribute("data-attachment-id")
    send = priya.page.get_by_role("button", name="Send")
    expect(send).to_be_enabled()

    cable.get_by_role("button", name="Remove cable.png").click()
    expect(priya.page.locator(".attach-item")).to_have_count(1)
    expect(priya.page.get_by_role("button", name="Remove panel.png")).to_be_focused()
    priya.page.get_by_label("Reply to Ben").fill("This panel switches the input.")
    send.click()

    live_message = ben.page.locator(".message").filter(has_text="switches the input")
    thumbnail = live_message.get_by_role("link", name="panel.png")
    expect(thumbnail.locator("img")).to_have_js_property("naturalWidth", 320)
    expect(live_message.get_by_role("link", name="cable.png")).to_have_count(0)
    assert_not_reloaded(ben.page)
    expect(priya.page.locator(".attach-item")).to_have_count(0)
    expect(
        priya.page.locator(".message:not(.pending)").get_by_role("link", name="panel.png")
    ).to_be_visible()

    with api_client(live, "priya") as client:
        assert client.get(f"/api/v1/attachments/{removed_id}").status_code == 404
        (message,) = client.get(f"/api/v1/tickets/{ticket_id}/messages").json()["items"]
    assert [each["filename"] for each in message["attachments"]] == ["panel.png"]


def test_a_file_that_is_not_a_photo_is_refused_in_plain_words_and_nothing_is_sent(
    open_session, live
):
    ticket_id = new_ticket(live, "carla", "Card reader at the gym door")
    carla = open_session("carla")
    carla.watch.expect_status(415)
    page = carla.page
    page.goto(f"/tickets/{ticket_id}")
    ready(page)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#body-error")).to_have_text("Write a message or attach a file.")

    picker = page.get_by_label("Attach photos or PDFs")
    with page.expect_response(re.compile(rf"/api/v1/tickets/{ticket_id}/attachments$")) as answer:
        picker.set_input_files(
            {"name": "reader.png", "mimeType": "image/png", "buffer": HTML_AS_PNG}
        )
    assert answer.value.status == 415
    detail = answer.value.json()["error"]["detail"]
    problems = page.locator("#files-problems")
    expect(problems).to_have_text(f"reader.png: {detail}.")
    expect(problems).to_have_attribute("role", "alert")
    expect(page.locator(".attach-item")).to_have_count(0)
    expect(page.get_by_role("button", name="Send")).to_be_enabled()

    page.get_by_label("Message the helpdesk").fill("It would not take my screenshot.")
    page.get_by_role("button", name="Send").click()
    sent = page.locator(".message").filter(has_text="would not take")
    expect(sent).not_to_have_attribute("data-message-id", "")
    expect(sent.locator(".attachments")).to_have_count(0)
    with api_client(live, "carla") as client:
        (message,) = client.get(f"/api/v1/tickets/{ticket_id}/messages").json()["items"]
    assert message["attachments"] == []


def test_a_photo_sent_while_the_socket_is_down_arrives_once_it_is_back(open_session, live):
    ticket_id = new_ticket(live, "dmitri", "Shower drain blocked on floor 2")
    dmitri = open_session("dmitri")
    dmitri.page.goto(f"/tickets/{ticket_id}")
    ready(dmitri.page)
    mark_no_reload(dmitri.page)
    sam = open_session("sam")
    sam.page.goto(f"/tickets/{ticket_id}")
    ready(sam.page)
    expect(dmitri.page.locator("#viewers")).to_contain_text("Sam")

    sam.switch.drop()
    expect(sam.page.locator("#live-status")).to_contain_text("Reconnecting")
    sam.page.get_by_label("Attach photos or PDFs").set_input_files(
        {"name": "drain.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    uploaded(sam.page, "drain.jpg")
    sam.page.get_by_role("button", name="Send").click()  # a photo alone, no text
    pending = sam.page.locator(".message.pending")
    expect(pending).to_contain_text("Waiting for the connection")
    expect(pending.get_by_role("link", name="drain.jpg")).to_be_visible()

    sam.switch.restore(sam.page)
    arrived = dmitri.page.locator(".message").get_by_role("link", name="drain.jpg")
    expect(arrived).to_have_count(1)
    expect(sam.page.locator(".message.pending")).to_have_count(0)
    assert_not_reloaded(dmitri.page)
    with api_client(live, "sam") as client:
        items = client.get(f"/api/v1/tickets/{ticket_id}/messages").json()["items"]
    assert [[each["filename"] for each in m["attachments"]] for m in items] == [["drain.jpg"]]


def test_a_pdf_dropped_on_the_report_form_shows_its_progress_and_is_listed_by_name(
    open_session, live
):
    carla = open_session("carla")
    page = carla.page
    held = []  # the upload, kept on its way until the test has seen it in progress
    page.route("**/api/v1/attachments", lambda route: held.append(route))
    page.goto("/tickets/new")
    ready(page)
    page.get_by_label("What is the problem?").fill("Charged twice at the cafeteria")
    page.get_by_label("Details").fill("The receipt shows both payments.")
    page.get_by_label("Services", exact=True).check()
    with page.expect_request("**/api/v1/attachments"):
        assert page.evaluate(DROP, PDF), "the form did not show it takes the drop"
    item = tray_item(page, "receipt.pdf")
    expect(item.locator(".attach-state")).to_have_text("Uploading…")
    expect(item.locator("progress")).to_be_visible()
    expect(item.locator(".attach-icon")).to_have_text("PDF")
    send = page.get_by_role("button", name="Send report")
    expect(send).to_be_disabled()
    expect(page.locator("#report-form")).not_to_have_class(re.compile(r"\bdropping\b"))

    (upload,) = held  # routed before the answer to any later call (one ordered connection)
    upload.continue_()
    uploaded(page, "receipt.pdf")
    expect(item.locator("progress")).to_be_hidden()
    expect(send).to_be_enabled()
    send.click()
    page.wait_for_url(TICKET_URL)
    listed = page.locator(".description .attachment")
    expect(listed.get_by_role("link", name="receipt.pdf")).to_be_visible()
    expect(listed.locator(".attachment-size")).to_have_text("1 KB")
    served = page.request.get(listed.get_by_role("link").get_attribute("href"))
    assert served.status == 200
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.body() == PDF.encode()
