"""The board's saved filters without scripts: saved under a name from the filters shown, plain
links to follow, deleted by a button; refusals in plain words, reporters refused."""

from __future__ import annotations

import re

from tests.conftest import create_ticket, json_of
from tests.pages.test_pages import card_ids, text

LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')


def saved_links(page: str) -> dict[str, str]:
    """Each saved filter's name and where its link goes."""
    start = page.index('id="saved-list"')
    listed = page[start : page.index("</ul>", start)]
    return {name: href.replace("&amp;", "&") for href, name in LINK.findall(listed)}


def save_form_query(page: str) -> str:
    form = page[page.index('id="save-filter-form"') :]
    return re.search(r'name="query" value="([^"]*)"', form).group(1).replace("&amp;", "&")


async def test_the_filters_shown_are_saved_under_a_name_and_followed_by_a_link(app, cast):
    wanted = await create_ticket(cast.reporter.client, title="Wifi down in Dorm B")
    await create_ticket(cast.reporter.client, title="Heater broken", category="facilities")
    page = await text(await cast.staff.client.get("/board?q=wifi&sort=waiting&category=&cursor="))
    assert save_form_query(page) == "q=wifi&sort=waiting"

    saved = await cast.staff.client.post(
        "/board/filters", form={"name": "Wifi, oldest first", "query": "q=wifi&sort=waiting"}
    )
    assert saved.status_code == 302
    assert saved.headers["Location"] == "/board?q=wifi&sort=waiting"
    page = await text(await cast.staff.client.get("/board?q=wifi&sort=waiting"))
    assert saved_links(page) == {"Wifi, oldest first": "/board?q=wifi&sort=waiting"}
    assert 'aria-current="true">Wifi, oldest first</a>' in page

    followed = await text(await cast.staff.client.get(saved_links(page)["Wifi, oldest first"]))
    assert card_ids(followed, "open") == [wanted["id"]]
    assert 'aria-current="true"' not in await text(await cast.staff.client.get("/board"))
    listed = (await json_of(await cast.staff.client.get("/api/v1/me/filters")))["items"]
    assert [(each["name"], each["query"]) for each in listed] == [
        ("Wifi, oldest first", "q=wifi&sort=waiting")
    ]


async def test_the_same_name_keeps_the_new_filters(app, cast):
    for query in ("q=wifi", "category=it"):
        response = await cast.staff.client.post(
            "/board/filters", form={"name": "Mine", "query": query}
        )
        assert response.status_code == 302
    page = await text(await cast.staff.client.get("/board"))
    assert saved_links(page) == {"Mine": "/board?category=it"}


async def test_a_filter_that_cannot_be_saved_says_why_and_keeps_the_board_filtered(app, cast):
    await create_ticket(cast.reporter.client, title="Wifi down")
    nameless = await cast.staff.client.post("/board/filters", form={"name": " ", "query": "q=wifi"})
    assert nameless.status_code == 400
    page = await text(nameless)
    assert '<p class="field-error" id="save-name-error">Please fill this in.</p>' in page
    assert 'name="q" type="search" value="wifi"' in page

    empty = await cast.staff.client.post("/board/filters", form={"name": "All", "query": ""})
    assert empty.status_code == 400
    assert "Choose some filters first, then save them under a name." in await text(empty)
    broken = await cast.staff.client.post(
        "/board/filters", form={"name": "Odd", "query": "colour=red"}
    )
    assert broken.status_code == 400
    assert "Choose some filters first, then save them under a name." in await text(broken)
    assert (await json_of(await cast.staff.client.get("/api/v1/me/filters")))["items"] == []


async def test_a_saved_filter_is_deleted_and_the_board_comes_back_as_it_was(app, cast):
    await cast.staff.client.post("/board/filters", form={"name": "Wifi", "query": "q=wifi"})
    [saved] = (await json_of(await cast.staff.client.get("/api/v1/me/filters")))["items"]
    path = f"/board/filters/{saved['id']}/delete"
    assert (await cast.admin.client.post(path, form={"back": ""})).status_code == 404
    deleted = await cast.staff.client.post(path, form={"back": "q=wifi&sort=bogus&category=it"})
    assert deleted.status_code == 302
    assert deleted.headers["Location"] == "/board?q=wifi&category=it"
    assert saved_links(await text(await cast.staff.client.get("/board"))) == {}
    assert (await cast.staff.client.post(path, form={"back": ""})).status_code == 404


async def test_reporters_have_no_saved_filters(app, cast):
    response = await cast.reporter.client.post(
        "/board/filters", form={"name": "Mine", "query": "q=wifi"}
    )
    assert response.status_code == 403
    assert (await json_of(await cast.staff.client.get("/api/v1/me/filters")))["items"] == []
