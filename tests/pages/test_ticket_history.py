"""The ticket page's record of edits: in the History panel and where they happened in the
conversation, as the server renders them."""

from __future__ import annotations

import re

from tests.conftest import TICKET, create_ticket
from tests.pages.test_pages import text


def words(html: str) -> str:
    """What a reader sees of some HTML: its text, with every run of space as one."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_edits_of_the_details_show_who_changed_what_in_the_history_and_conversation(
    app, cast
):
    ticket = await create_ticket(cast.reporter.client)
    path = f"/api/v1/tickets/{ticket['id']}"
    await cast.reporter.client.post(f"{path}/messages", json={"body": "First words"})
    await cast.staff.client.patch(
        path, json={"location": "Dorm B, room 216", "category": "facilities"}
    )
    await cast.reporter.client.patch(path, json={"description": "The lights are off too."})
    await cast.staff.client.post(f"{path}/messages", json={"body": "Last words"})

    page = await text(await cast.reporter.client.get(f"/tickets/{ticket['id']}"))
    history = words(page[page.index('id="history"') :])
    assert "Changed the category and the location by Sam" in history
    assert "Category: IT → Facilities" in history
    assert "Location: Dorm B, room 214 → Dorm B, room 216" in history
    assert "Changed the description by Rita" in history
    conversation = words(page[page.index('id="messages"') : page.index('id="seen"')])
    said = (
        "First words",
        "Sam changed the category and the location",
        "Rita changed the description",
        "Last words",
    )
    order = [conversation.index(part) for part in said]
    assert order == sorted(order)
    assert TICKET["description"] not in page, "an old description is not kept"
