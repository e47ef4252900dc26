"""Server-rendered pages without JavaScript: sign-in, reporting, the ticket page, the board."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from helpdesk.models import Message, Ticket, User, utcnow
from tests.conftest import PASSWORD, TICKET, create_ticket, make_user

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


async def text(response) -> str:
    return await response.get_data(as_text=True)


async def test_pages_need_sign_in_and_come_back_after_it(app):
    await make_user("maya")
    client = app.test_client()
    response = await client.get("/tickets/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/tickets/new")
    response = await client.post(
        "/login", form={"username": "maya", "password": PASSWORD, "next": "/tickets/new"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/tickets/new"
    assert (await client.get("/tickets/new")).status_code == 200


OFF_SITE_TARGETS = [
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "/\t/evil.example/x",  # browsers drop the tab: //evil.example/x
    "/\n/evil.example/x",
    "/\r/evil.example/x",
    " //evil.example/x",  # and strip leading spaces
    "\x00//evil.example/x",
    "/\x0b/evil.example",
    "javascript:alert(1)",
    "evil.example",
]
BROKEN_HEADER_TARGETS = ["/x\r\nSet-Cookie: a=b", "/x\nLocation: //evil.example", "/x\x00y", "/é"]


@pytest.mark.parametrize("target", OFF_SITE_TARGETS + BROKEN_HEADER_TARGETS)
async def test_login_never_redirects_off_site(app, target):
    await make_user("maya")
    client = app.test_client()
    response = await client.post(
        "/login", form={"username": "maya", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    signed_in = await client.get("/login", query_string={"next": target})
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE_TARGETS + BROKEN_HEADER_TARGETS)
async def test_the_login_form_never_carries_an_off_site_next(app, target):
    page = await app.test_client().get("/login", query_string={"next": target})
    assert page.status_code == 200
    assert 'name="next" value=""' in await text(page)
    failed = await app.test_client().post(
        "/login", form={"username": "maya", "password": "nope", "next": target}
    )
    assert failed.status_code == 401
    assert 'name="next" value=""' in await text(failed)


@pytest.mark.parametrize("target", ["/tickets/new", "/tickets/7?tab=history#latest", "/board"])
async def test_login_comes_back_to_a_local_path(app, target):
    await make_user("maya")
    response = await app.test_client().post(
        "/login", form={"username": "maya", "password": PASSWORD, "next": target}
    )
    assert response.headers["Location"] == target


async def test_login_form_shows_a_clear_error(app):
    response = await app.test_client().post("/login", form={"username": "maya", "password": "nope"})
    assert response.status_code == 401
    page = await text(response)
    assert "Wrong username or password." in page
    assert 'role="alert"' in page


async def test_register_form_shows_errors_beside_fields(app):
    response = await app.test_client().post(
        "/register", form={"username": "m", "password": "short", "display_name": "", "email": ""}
    )
    assert response.status_code == 400
    page = await text(response)
    assert 'id="username-error"' in page
    assert 'aria-invalid="true"' in page
    assert not await User.exists(username="m")


async def test_register_form_signs_in(app):
    client = app.test_client()
    response = await client.post(
        "/register",
        form={
            "username": "maya",
            "password": "heater-broken-214",
            "display_name": "Maya",
            "email": "",
        },
    )
    assert response.status_code == 302
    assert (await client.get("/")).status_code == 200


async def test_report_form_creates_a_ticket_and_shows_it(app, cast):
    response = await cast.reporter.client.post(
        "/tickets/new",
        form={
            "title": "No wifi in Dorm B",
            "description": "Since Monday",
            "category": "it",
            "location": "Dorm B, room 214",
            "priority": "high",
        },
    )
    assert response.status_code == 302
    ticket = await Ticket.get(title="No wifi in Dorm B")
    assert response.headers["Location"] == f"/tickets/{ticket.id}"
    page = await text(await cast.reporter.client.get(f"/tickets/{ticket.id}"))
    assert "No wifi in Dorm B" in page and "Dorm B, room 214" in page


async def test_report_form_errors_keep_what_was_typed(app, cast):
    response = await cast.reporter.client.post(
        "/tickets/new",
        form={
            "title": "",
            "description": "Since Monday, the heater",
            "location": "Dorm B",
        },
    )
    assert response.status_code == 400
    page = await text(response)
    assert 'id="title-error"' in page and 'id="category-error"' in page
    assert "Since Monday, the heater" in page
    assert await Ticket.all().count() == 0


async def test_user_text_is_escaped_everywhere(app, cast):
    await cast.reporter.user.__class__.filter(id=cast.reporter.id).update(display_name=XSS)
    ticket = await create_ticket(cast.reporter.client, title=XSS, description=XSS, location=XSS)
    await cast.reporter.client.post(f"/api/v1/tickets/{ticket['id']}/messages", json={"body": XSS})
    for client, path in [
        (cast.reporter.client, f"/tickets/{ticket['id']}"),
        (cast.reporter.client, "/"),
        (cast.staff.client, "/board"),
        (cast.staff.client, f"/tickets/{ticket['id']}"),
    ]:
        page = await text(await client.get(path))
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;alert" in page, path


async def test_reporter_dashboard_lists_own_current_tickets_and_activity(app, cast):
    mine = await create_ticket(cast.reporter.client, title="Heater broken")
    await create_ticket(cast.other.client, title="Not mine at all")
    await cast.staff.client.post(f"/api/v1/tickets/{mine['id']}/messages", json={"body": "On it"})
    page = await text(await cast.reporter.client.get("/"))
    assert "Heater broken" in page and "Not mine at all" not in page
    assert re.search(r'data-unread="1"', page)
    assert "Sam: On it" in page
    assert "Report an issue" in page


async def test_staff_home_is_the_board_with_three_columns(app, cast):
    await create_ticket(cast.reporter.client, title="Heater broken")
    response = await cast.staff.client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/board"
    page = await text(await cast.staff.client.get("/board"))
    for column in ('data-status="open"', 'data-status="active"', 'data-status="closed"'):
        assert column in page
    assert "Heater broken" in page
    assert (await cast.reporter.client.get("/board")).status_code == 403


async def test_board_filters(app, cast):
    await create_ticket(cast.reporter.client, title="Heater broken", category="facilities")
    await create_ticket(cast.reporter.client, title="Wifi down", category="it")
    page = await text(await cast.staff.client.get("/board?category=it&q=wifi"))
    assert "Wifi down" in page and "Heater broken" not in page
    bad = await cast.staff.client.get("/board?category=nope")
    assert bad.status_code == 200


async def test_ticket_page_reply_and_staff_moves(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    page = await text(await cast.reporter.client.get(f"/tickets/{ticket['id']}"))
    assert 'name="internal"' not in page, "reporters get no internal-note switch"
    assert "Start work" not in page
    response = await cast.reporter.client.post(
        f"/tickets/{ticket['id']}/messages", form={"body": "Any news?"}
    )
    assert response.status_code == 302
    staff_page = await text(await cast.staff.client.get(f"/tickets/{ticket['id']}"))
    assert 'name="internal"' in staff_page and "Start work" in staff_page
    response = await cast.staff.client.post(
        f"/tickets/{ticket['id']}/messages", form={"body": "Checked the AP", "internal": "on"}
    )
    assert response.status_code == 302
    note = await Message.get(body="Checked the AP")
    assert note.internal
    assert "Checked the AP" not in await text(
        await cast.reporter.client.get(f"/tickets/{ticket['id']}")
    )
    response = await cast.staff.client.post(
        f"/tickets/{ticket['id']}/status", form={"status": "active", "version": "1", "note": ""}
    )
    assert response.status_code == 302
    assert (await Ticket.get(id=ticket["id"])).status == "active"


async def test_stale_form_shows_the_conflict(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/status", json={"status": "active"}
    )
    response = await cast.staff.client.post(
        f"/tickets/{ticket['id']}/status", form={"status": "closed", "version": "1"}
    )
    assert response.status_code == 400
    assert "changed since you loaded it" in await text(response)
    assert (await Ticket.get(id=ticket["id"])).status == "active"


async def test_reporter_edits_through_the_form(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.reporter.client.post(
        f"/tickets/{ticket['id']}/edit",
        form={
            "title": "Wifi down in Dorm B",
            "description": TICKET["description"],
            "category": "it",
            "location": "",
            "version": "1",
        },
    )
    assert response.status_code == 302
    stored = await Ticket.get(id=ticket["id"])
    assert stored.title == "Wifi down in Dorm B" and stored.location is None


async def test_others_tickets_are_not_found(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    assert (await cast.other.client.get(f"/tickets/{ticket['id']}")).status_code == 404
    response = await cast.other.client.post(
        f"/tickets/{ticket['id']}/messages", form={"body": "hi"}
    )
    assert response.status_code == 404


async def test_logout_form(app, cast):
    response = await cast.reporter.client.post("/logout")
    assert response.status_code == 302
    assert (await cast.reporter.client.get("/api/v1/me")).status_code == 401


async def test_password_page_changes_the_password(app, cast):
    response = await cast.reporter.client.post(
        "/account/password",
        form={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-passphrase",
        },
    )
    assert response.status_code == 200
    assert "Your password is changed" in await text(response)
    weak = await cast.reporter.client.post(
        "/account/password",
        form={
            "current_password": "a-brand-new-passphrase",
            "new_password": "password",
        },
    )
    assert weak.status_code == 400


async def test_replies_from_the_page_count_against_the_chat_limit_too(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    reply = f"/tickets/{ticket['id']}/messages"
    limit = app.settings.chat_messages
    for n in range(limit):
        response = await cast.reporter.client.post(reply, form={"body": f"Any news? ({n})"})
        assert response.status_code == 302
    response = await cast.reporter.client.post(reply, form={"body": "Hello??"})
    assert response.status_code == 400
    assert "sending messages too fast" in await text(response)
    assert await Message.filter(ticket_id=ticket["id"]).count() == limit


async def test_a_broken_earlier_messages_link_says_so_and_shows_the_newest(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    await cast.staff.client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "Newest reply"}
    )
    for before in ("-1", "x", str(2**64)):
        response = await cast.reporter.client.get(f"/tickets/{ticket['id']}?before={before}")
        assert response.status_code == 400, before
        page = await text(response)
        assert "link to earlier messages is not valid" in page
        assert "Newest reply" in page


def card_ids(page: str, status: str) -> list[int]:
    """The ticket numbers of one board column, top to bottom, as the server rendered them."""
    column = page.split(f'<ol class="cards" data-status="{status}">', 1)[1].split("</ol>", 1)[0]
    return [int(found) for found in re.findall(r'data-ticket-id="(\d+)"', column)]


async def test_the_board_sorts_without_javascript(app, cast):
    for priority in ("low", "urgent", "normal", "urgent"):
        await create_ticket(cast.reporter.client, title=f"Sorted {priority}", priority=priority)
    for sort in ("newest", "waiting", "priority", "activity"):
        page = await text(await cast.staff.client.get(f"/board?sort={sort}"))
        listed = await cast.staff.client.get(f"/api/v1/tickets?status=open&sort={sort}")
        assert card_ids(page, "open") == [t["id"] for t in (await listed.get_json())["items"]]
        assert f'<option value="{sort}" selected>' in page


async def test_board_counts_are_the_columns_full_counts(app, cast):
    for _ in range(51):  # one more than a column shows; staff have no hourly report limit
        await create_ticket(cast.staff.client)
    page = await text(await cast.staff.client.get("/board"))
    assert len(card_ids(page, "open")) == 50
    counts = re.findall(r'<span class="count" data-count>(\d+)</span>', page)
    assert counts == ["51", "0", "0"]


async def test_a_board_search_finds_tickets_closed_long_ago(app, cast):
    old = await create_ticket(cast.reporter.client, title="Radiator valve stuck")
    for status in ("active", "closed"):
        await cast.staff.client.post(f"/api/v1/tickets/{old['id']}/status", json={"status": status})
    await Ticket.filter(id=old["id"]).update(closed_at=utcnow() - timedelta(days=40))

    assert old["id"] not in card_ids(await text(await cast.staff.client.get("/board")), "closed")
    page = await text(await cast.staff.client.get("/board?q=radiator"))
    assert card_ids(page, "closed") == [old["id"]]
    page = await text(await cast.staff.client.get(f"/board?q=%23{old['id']}"))
    assert card_ids(page, "closed") == [old["id"]]


async def test_the_report_form_without_scripts_shows_every_problem_in_plain_words(app, cast):
    response = await cast.reporter.client.post(
        "/tickets/new", form={"title": "  ", "description": "", "location": "Gym"}
    )
    assert response.status_code == 400
    page = await text(response)
    assert '<p class="field-error" id="title-error">Please fill this in.</p>' in page
    assert '<p class="field-error" id="description-error">Please fill this in.</p>' in page
    assert '<p class="field-error" id="category-error">Choose a category.</p>' in page
    assert "String should" not in page
    assert not await Ticket.exists()


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({"username": ""}, "username", "Please fill this in."),
        ({"username": "Maya K"}, "username", "Use 3 to 32 characters"),
        ({"email": "maya-at-campus"}, "email", "Enter an email address"),
        ({"password": ""}, "password", "Please fill this in."),
    ],
)
async def test_registration_errors_say_what_is_wrong_with_each_field(app, form, field, words):
    sent = {"username": "maya", "password": "a long enough passphrase", "email": "", **form}
    response = await app.test_client().post("/register", form=sent)
    assert response.status_code == 400
    page = await text(response)
    assert re.search(f'id="{field}-error">{re.escape(words)}', page), page
    assert "Use only the characters described" not in page


async def test_status_changes_appear_in_the_conversation_where_they_happened(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    path = f"/api/v1/tickets/{ticket['id']}"
    await cast.reporter.client.post(f"{path}/messages", json={"body": "First words"})
    await cast.staff.client.post(f"{path}/status", json={"status": "active", "note": "On my way"})
    await cast.staff.client.post(f"{path}/messages", json={"body": "Last words"})
    page = await text(await cast.reporter.client.get(f"/tickets/{ticket['id']}"))
    conversation = page[page.index('id="messages"') : page.index('id="seen"')]
    assert "started work on this ticket" in conversation
    order = [conversation.index(part) for part in ("First words", "On my way", "Last words")]
    assert order == sorted(order)


async def test_a_bad_board_filter_is_named_and_the_others_still_apply(app, cast):
    wanted = [await create_ticket(cast.staff.client, title=f"Gutter {n} blocked") for n in range(2)]
    await create_ticket(cast.staff.client, title="Unrelated heater")
    page = await text(await cast.staff.client.get("/board?q=gutter&sort=waiting&category=plumbing"))
    assert "Some filters could not be used" in page
    assert re.search(r"<li>Category: Choose one of: [^<]*facilities", page)
    assert card_ids(page, "open") == [ticket["id"] for ticket in wanted]  # searched, oldest first
    assert 'name="q" type="search" value="gutter"' in page
    assert '<option value="waiting" selected>' in page
    assert 'id="filter-category" name="category" aria-invalid="true"' in page


def assign_to_me_form(page: str) -> str | None:
    found = re.search(r'<form [^>]*id="assign-me-form"[^>]*>(.*?)</form>', page, re.S)
    return found.group(0) if found else None


async def test_assign_to_me_works_without_javascript(app, cast):
    ticket = await create_ticket(cast.reporter.client)
    page = await text(await cast.staff.client.get(f"/tickets/{ticket['id']}"))
    form = assign_to_me_form(page)
    assert form is not None and " hidden" not in form.split(">", 1)[0]
    fields = dict(re.findall(r'name="(\w+)" value="(\d+)"', form))
    assert fields == {"version": str(ticket["version"]), "assignee_id": str(cast.staff.id)}

    response = await cast.staff.client.post(f"/tickets/{ticket['id']}/assign", form=fields)
    assert response.status_code == 302
    assert (await Ticket.get(id=ticket["id"])).assignee_id == cast.staff.id
    page = await text(await cast.staff.client.get(f"/tickets/{ticket['id']}"))
    assert " hidden" in assign_to_me_form(page).split(">", 1)[0]
    reporter_page = await text(await cast.reporter.client.get(f"/tickets/{ticket['id']}"))
    assert assign_to_me_form(reporter_page) is None


async def test_staff_report_for_someone_who_phoned_in_without_javascript(app, cast):
    page = await text(await cast.staff.client.get("/tickets/new"))
    assert 'name="reporter"' in page and "Reporting for" in page
    form = {"title": "Heater off", "description": "Rang the desk.", "category": "facilities"}
    response = await cast.staff.client.post("/tickets/new", form={**form, "reporter": " Rita "})
    assert response.status_code == 302
    ticket = await Ticket.get().prefetch_related("reporter")
    assert ticket.reporter.username == "rita"

    response = await cast.staff.client.post("/tickets/new", form={**form, "reporter": "nobody"})
    assert response.status_code == 400
    page = await text(response)
    assert "No reporter account has that username." in page
    assert 'value="nobody"' in page and 'value="Heater off"' in page
    assert await Ticket.all().count() == 1


async def test_reporters_never_see_or_use_the_reporting_for_field(app, cast):
    assert 'name="reporter"' not in await text(await cast.reporter.client.get("/tickets/new"))
    form = {"title": "Heater off", "description": "Cold.", "category": "facilities"}
    response = await cast.reporter.client.post("/tickets/new", form={**form, "reporter": "oscar"})
    assert response.status_code == 302
    assert (await Ticket.get()).reporter_id == cast.reporter.id


def my_ticket_ids(page: str) -> list[int]:
    """The ticket numbers the reporter's dashboard lists, top to bottom."""
    listed = page.split('id="my-tickets"', 1)[1].split("</ul>", 1)[0]
    return [int(found) for found in re.findall(r'data-ticket-id="(\d+)"', listed)]


async def test_a_reporter_finds_their_own_tickets_closed_long_ago(app, cast):
    old = await create_ticket(cast.reporter.client, title="Radiator valve stuck")
    for status in ("active", "closed"):
        await cast.staff.client.post(f"/api/v1/tickets/{old['id']}/status", json={"status": status})
    await Ticket.filter(id=old["id"]).update(closed_at=utcnow() - timedelta(days=400))
    current = await create_ticket(cast.reporter.client, title="Radiator noisy")
    await create_ticket(cast.other.client, title="Radiator leaking")  # someone else's

    assert my_ticket_ids(await text(await cast.reporter.client.get("/"))) == [current["id"]]
    page = await text(await cast.reporter.client.get("/?q=radiator"))
    assert my_ticket_ids(page) == [current["id"], old["id"]]
    assert 'name="q" type="search" value="radiator"' in page
    page = await text(await cast.reporter.client.get(f"/?q=%23{old['id']}"))
    assert my_ticket_ids(page) == [old["id"]]
    page = await text(await cast.reporter.client.get("/?show=closed"))
    assert my_ticket_ids(page) == [old["id"]] and "My past tickets" in page
    page = await text(await cast.reporter.client.get("/?q=nothing-called-this"))
    assert my_ticket_ids(page) == [] and "None of your tickets match" in page


async def test_the_dashboard_pages_through_many_tickets_without_javascript(app, cast):
    made = [
        (await create_ticket(cast.staff.client, reporter_id=cast.reporter.id))["id"]
        for _ in range(52)
    ]
    page = await text(await cast.reporter.client.get("/"))
    assert my_ticket_ids(page) == made[::-1][:50]
    older = re.search(r'<a href="([^"]+)" rel="next">Older tickets</a>', page)
    assert older is not None
    page = await text(await cast.reporter.client.get(older.group(1).replace("&amp;", "&")))
    assert my_ticket_ids(page) == made[::-1][50:]
    assert 'rel="next"' not in page


async def test_a_bad_dashboard_address_is_named_and_the_search_still_runs(app, cast):
    found = await create_ticket(cast.reporter.client, title="Window cracked")
    page = await text(await cast.reporter.client.get("/?q=window&cursor=not-a-page"))
    assert my_ticket_ids(page) == [found["id"]]
    assert "Page: " in page and "could not be used" in page


async def test_the_ticket_page_names_the_reporters_account_beside_their_display_name(app, cast):
    """Display names are free text: two people can both be "Sam Rivera". The username is not."""
    await User.filter(id=cast.other.id).update(display_name=cast.reporter.user.display_name)
    ticket = await create_ticket(cast.reporter.client)
    page = await text(await cast.staff.client.get(f"/tickets/{ticket['id']}"))
    assert f"(@{cast.reporter.user.username})" in page
