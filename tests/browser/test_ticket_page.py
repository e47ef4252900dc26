"""The ticket page as people see it: a long conversation, links, notes, events and the tab title."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ACCOUNTS
from tests.browser.test_journey import api_client, assert_not_reloaded, mark_no_reload, ready
from tests.conftest import PASSWORD
from tests.live.server import LiveServer, prepare_database, server_env

LONG = 520  # more than the page ever rendered at once


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    """A server whose chat allowance lets a test write a long conversation quickly."""
    root = tmp_path_factory.mktemp("ticket-page")
    env = server_env(root, chat_messages="100000")
    prepare_database(env, ACCOUNTS)
    server = LiveServer(root, env).start()
    yield server
    server.stop()


def new_ticket(live: LiveServer, reporter: str, title: str) -> int:
    with api_client(live, reporter) as client:
        body = {"title": title, "description": "Since this morning.", "category": "it"}
        response = client.post("/api/v1/tickets", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]


def say(live: LiveServer, username: str, ticket_id: int, *bodies: str, **extra) -> None:
    with api_client(live, username) as client:
        for body in bodies:
            response = client.post(
                f"/api/v1/tickets/{ticket_id}/messages", json={"body": body, **extra}
            )
            assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def long_ticket(live: LiveServer) -> int:
    ticket_id = new_ticket(live, "alice", "Wifi keeps dropping in the library")
    half = LONG // 2
    say(live, "priya", ticket_id, *(f"Update number {n}." for n in range(1, half + 1)))
    with api_client(live, "priya") as priya:
        moved = priya.post(f"/api/v1/tickets/{ticket_id}/status", json={"status": "active"})
        assert moved.status_code == 200
    say(live, "priya", ticket_id, *(f"Update number {n}." for n in range(half + 1, LONG + 1)))
    return ticket_id


def message(page: Page, n: int):
    return page.locator(".message").filter(has_text=f"Update number {n}.")


def test_a_long_conversation_opens_at_its_newest_message(open_session, live, long_ticket):
    alice = open_session("alice", phone=True)
    alice.page.goto(f"/tickets/{long_ticket}")
    ready(alice.page)
    mark_no_reload(alice.page)
    expect(message(alice.page, LONG)).to_be_in_viewport()
    reply_box = alice.page.get_by_label("Message the helpdesk")
    expect(reply_box).to_be_in_viewport()
    expect(message(alice.page, 1)).to_have_count(0)

    say(live, "priya", long_ticket, "A live one after all of those.")
    live_message = alice.page.locator(".message").filter(has_text="A live one after all")
    expect(live_message).to_be_in_viewport()

    alice.page.evaluate("window.scrollTo(0, 0)")
    expect(reply_box).to_be_in_viewport()  # reachable while reading further up
    shown = alice.page.locator(".message").count()
    first_shown = alice.page.locator(".message").first
    first_text = first_shown.text_content()
    alice.page.get_by_role("link", name="Show earlier messages").click()
    expect(alice.page.locator(".message")).to_have_count(shown + 50)
    expect(alice.page.locator(".message").filter(has_text=first_text)).to_be_in_viewport()
    while alice.page.get_by_role("link", name="Show earlier messages").count():
        count = alice.page.locator(".message").count()
        alice.page.get_by_role("link", name="Show earlier messages").click()
        expect(alice.page.locator(".message")).not_to_have_count(count)
    expect(alice.page.locator(".message")).to_have_count(LONG + 1)
    expect(alice.page.locator(".conversation-start")).to_be_visible()
    for n in (1, 250, LONG):
        expect(message(alice.page, n)).to_have_count(1)
    lines = conversation_lines(alice.page)[1:]  # after "This is where the conversation began."
    started = lines.index("Priya started work on this ticket")
    assert lines[started - 1 : started + 2 : 2] == [
        f"Update number {LONG // 2}.",
        f"Update number {LONG // 2 + 1}.",
    ]
    assert_not_reloaded(alice.page)


def test_earlier_messages_without_javascript(browser: Browser, live, long_ticket):
    context = browser.new_context(base_url=live.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"/tickets/{long_ticket}")
        expect(message(page, LONG)).to_have_count(1)
        expect(message(page, 1)).to_have_count(0)
        oldest_shown = page.locator(".message").first.get_attribute("data-message-id")
        page.get_by_role("link", name="Show earlier messages").click()
        expect(page).to_have_url(f"{live.url}/tickets/{long_ticket}?before={oldest_shown}#messages")
        expect(page.locator(".message")).to_have_count(50)
        ids = page.locator(".message").evaluate_all(
            "ms => ms.map(m => Number(m.dataset.messageId))"
        )
        assert ids == sorted(ids) and ids[-1] < int(oldest_shown)
        expect(message(page, LONG)).to_have_count(0)
        page.get_by_role("link", name="Show the newest messages").click()
        expect(message(page, LONG)).to_have_count(1)
        expect(page.get_by_label("Message the helpdesk")).to_be_visible()
    finally:
        context.close()


def test_the_offline_banner_goes_once_the_connection_is_back(open_session, live):
    ticket_id = new_ticket(live, "ben", "Projector flickers in room S2")
    ben = open_session("ben")
    ben.page.goto(f"/tickets/{ticket_id}")
    ready(ben.page)
    banner = ben.page.locator("#live-status")
    ben.context.set_offline(True)
    expect(banner).to_contain_text("You are offline")
    ben.page.get_by_label("Message the helpdesk").fill("Written while offline")
    ben.page.get_by_role("button", name="Send").click()
    ben.context.set_offline(False)
    sent = ben.page.locator(".message").filter(has_text="Written while offline")
    expect(sent).not_to_have_class(re.compile(r"\bpending\b"))
    expect(banner).to_be_hidden()


def set_visibility(page: Page, state: str) -> None:
    """Put the tab in the background or bring it back, as switching tabs does."""
    page.evaluate(
        """state => {
            const hidden = state !== "visible";
            const property = { configurable: true, value: state };
            Object.defineProperty(document, "visibilityState", property);
            Object.defineProperty(document, "hidden", { configurable: true, value: hidden });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_a_message_read_while_offline_is_marked_read_once_back(open_session, live):
    ticket_id = new_ticket(live, "carla", "Locker 12 will not open")
    carla = open_session("carla")
    priya = open_session("priya")
    carla.page.goto(f"/tickets/{ticket_id}")
    ready(carla.page)
    priya.page.goto(f"/tickets/{ticket_id}")
    expect(priya.page.locator("#viewers")).to_contain_text("Carla")
    set_visibility(carla.page, "hidden")
    priya.page.get_by_label("Reply to Carla").fill("We have a spare key at the desk.")
    priya.page.get_by_role("button", name="Send").click()
    expect(carla.page.locator(".message").filter(has_text="spare key")).to_have_count(1)
    expect(priya.page.locator("#seen")).to_have_text("")

    carla.switch.drop()
    expect(carla.page.locator("#live-status")).to_contain_text("Reconnecting")
    set_visibility(carla.page, "visible")  # she reads it while the connection is down
    carla.switch.restore(carla.page)
    expect(priya.page.locator("#seen")).to_contain_text("Seen by Carla")


def test_a_room_left_before_its_join_was_answered_stays_left(open_session):
    alice = open_session("alice")
    ready(alice.page)
    rejoined = alice.page.evaluate(
        """async () => {
            const { LiveSocket } = await import("/static/js/socket.js");
            const socket = new LiveSocket();
            const sent = [];
            const ws = { readyState: WebSocket.OPEN, send: (text) => sent.push(JSON.parse(text)) };
            socket.ws = ws;
            socket.join("ticket:7", 3);
            socket.join("board", 3);
            socket.leave("ticket:7");
            const late = { type: "joined", room: "ticket:7", last_event_id: 9 };
            socket.onMessage(JSON.stringify(late));
            sent.length = 0;
            socket.onOpen(ws);  // as after a reconnect
            return sent.filter((frame) => frame.op === "join").map((frame) => frame.room);
        }"""
    )
    assert rejoined == ["board"]


def test_a_location_added_later_appears_live(open_session, live):
    ticket_id = new_ticket(live, "dmitri", "Water fountain is warm")
    dmitri = open_session("dmitri")
    dmitri.page.goto(f"/tickets/{ticket_id}")
    ready(dmitri.page)
    where = dmitri.page.locator("#ticket-location")
    expect(where).to_be_hidden()
    with api_client(live, "sam") as sam:
        path = f"/api/v1/tickets/{ticket_id}"
        assert sam.patch(path, json={"location": "Library, 2nd floor"}).status_code == 200
        expect(where).to_have_text("Library, 2nd floor")
        expect(where).to_be_visible()
        assert sam.patch(path, json={"location": None}).status_code == 200
        expect(where).to_be_hidden()


LINKS = (
    "See https://x.example/a?b=1, or (https://x.example/c). Not javascript:alert(1), not www.x,"
    " but https://x.example/wiki/Foo_(bar)! And https://x.example/d."
)
LINKED = [
    "https://x.example/a?b=1",
    "https://x.example/c",
    "https://x.example/wiki/Foo_(bar)",
    "https://x.example/d",
]


def assert_linked(body) -> None:
    expect(body).to_have_text(LINKS)  # the text itself unchanged
    links = body.locator("a").evaluate_all(
        "links => links.map(a => [a.getAttribute('href'), a.textContent, a.rel])"
    )
    assert links == [[url, url, "noopener noreferrer nofollow"] for url in LINKED]


def test_web_links_in_messages_are_clickable_on_the_page_and_live(open_session, live):
    ticket_id = new_ticket(live, "ben", "Where do I download the VPN client?")
    say(live, "priya", ticket_id, LINKS)
    ben = open_session("ben")
    ben.page.goto(f"/tickets/{ticket_id}")
    ready(ben.page)
    bodies = ben.page.locator(".message-body")
    assert_linked(bodies.nth(0))  # as the server rendered it
    say(live, "priya", ticket_id, LINKS)
    expect(bodies).to_have_count(2)
    assert_linked(bodies.nth(1))  # as it arrived live


def test_an_internal_note_is_labelled_so_and_the_next_message_is_a_reply_again(open_session, live):
    ticket_id = new_ticket(live, "ben", "Card reader at the east door")
    sam = open_session("sam")
    sam.page.goto(f"/tickets/{ticket_id}")
    ready(sam.page)
    box = sam.page.locator("#body")
    expect(box).to_have_accessible_name("Reply to Ben")
    sam.page.get_by_label("Internal note").check()
    expect(box).to_have_accessible_name("Note for staff, not a reply to Ben")
    box.fill("Reader firmware is two versions behind.")
    sam.page.get_by_role("button", name="Send").click()
    expect(sam.page.locator(".message.internal")).to_contain_text("firmware")
    expect(sam.page.get_by_label("Internal note")).not_to_be_checked()
    expect(box).to_have_accessible_name("Reply to Ben")
    box.fill("We are on it.")
    sam.page.get_by_role("button", name="Send").click()
    expect(sam.page.locator(".message:not(.internal)")).to_contain_text("We are on it.")
    expect(sam.page.locator(".message.internal")).to_have_count(1)


def conversation_lines(page: Page) -> list[str]:
    """What each item of the conversation says: a message's text, or who moved the ticket how."""
    return page.locator("#messages > li").evaluate_all(
        r"""items => items.map(item => {
            const line = (item.querySelector(".message-body, .event-head") || item).cloneNode(true);
            line.querySelector("time")?.remove();
            return line.textContent.replace(/\s+/g, " ").trim();
        })"""
    )


def test_closing_and_reopening_show_in_the_conversation_and_the_closed_notice_live(
    open_session, live
):
    ticket_id = new_ticket(live, "ben", "Shower drain blocked on floor 2")
    say(live, "priya", ticket_id, "Is it the one by the window?")
    ben = open_session("ben")
    priya = open_session("priya")
    ben.page.goto(f"/tickets/{ticket_id}")
    ready(ben.page)
    mark_no_reload(ben.page)
    notice = ben.page.get_by_text("This ticket is closed.")
    expect(notice).to_be_hidden()

    priya.page.goto(f"/tickets/{ticket_id}")
    priya.page.get_by_role("button", name="Start work").click()
    expect(priya.page.get_by_role("button", name="Close ticket")).to_be_visible()
    priya.page.get_by_role("textbox", name="Note (optional)").fill(
        "Drain cleared, see https://x.example/drains"
    )
    priya.page.get_by_role("button", name="Close ticket").click()
    closed = ben.page.locator(".conversation-event").filter(has_text="Priya closed this ticket")
    expect(closed).to_contain_text("Drain cleared")
    expect(closed.get_by_role("link", name="https://x.example/drains")).to_be_visible()
    expect(notice).to_be_visible()
    expect(ben.page.locator("#reply-form")).to_be_hidden()

    ben.page.get_by_role("textbox", name="Note (optional)").fill("It is blocked again.")
    ben.page.get_by_role("button", name="Reopen").click()
    expect(ben.page.locator(".conversation-event").last).to_contain_text("Ben reopened this ticket")
    expect(notice).to_be_hidden()
    ben.page.get_by_label("Message the helpdesk").fill("Water is back up to the ankles.")
    ben.page.get_by_role("button", name="Send").click()
    expect(ben.page.locator(".message.mine")).to_contain_text("ankles")
    assert_not_reloaded(ben.page)

    live_lines = conversation_lines(ben.page)
    ben.page.reload()
    ready(ben.page)
    assert (
        conversation_lines(ben.page)
        == live_lines
        == [
            "Is it the one by the window?",
            "Priya started work on this ticket",
            "Priya closed this ticket",
            "Ben reopened this ticket",
            "Water is back up to the ankles.",
        ]
    )


def test_the_tab_title_counts_replies_that_arrive_while_it_is_in_the_background(open_session, live):
    ticket_id = new_ticket(live, "alice", "Microwave in the staff room sparks")
    alice = open_session("alice")
    alice.page.goto(f"/tickets/{ticket_id}")
    ready(alice.page)
    title = f"#{ticket_id} Microwave in the staff room sparks · Campus Helpdesk"
    assert alice.page.title() == title
    set_visibility(alice.page, "hidden")
    say(live, "sam", ticket_id, "Unplug it, please.", "Someone is coming.")
    expect(alice.page).to_have_title(f"(2) {title}")
    set_visibility(alice.page, "visible")
    expect(alice.page).to_have_title(title)
    alice.page.get_by_label("Message the helpdesk").fill("Unplugged.")
    alice.page.get_by_role("button", name="Send").click()
    say(live, "sam", ticket_id, "Thanks.")
    expect(alice.page.locator(".message").filter(has_text="Thanks.")).to_have_count(1)
    assert alice.page.title() == title, "nothing unread while the tab is in front"


def test_a_ticket_reopened_while_its_closed_page_is_open_can_be_answered_and_edited(
    open_session, live
):
    ticket_id = new_ticket(live, "carla", "Blind stuck in seminar room 3")
    with api_client(live, "priya") as priya:
        path = f"/api/v1/tickets/{ticket_id}/status"
        for status in ("active", "closed"):
            assert priya.post(path, json={"status": status}).status_code == 200
        carla = open_session("carla")
        carla.page.goto(f"/tickets/{ticket_id}")
        ready(carla.page)
        expect(carla.page.get_by_text("This ticket is closed.")).to_be_visible()
        expect(carla.page.get_by_text("Edit details")).to_be_hidden()
        assert priya.post(path, json={"status": "active"}).status_code == 200
    expect(carla.page.get_by_label("Message the helpdesk")).to_be_visible()
    expect(carla.page.get_by_text("This ticket is closed.")).to_be_hidden()
    carla.page.get_by_text("Edit details").click()
    expect(carla.page.get_by_label("What is the problem?")).to_have_value(
        "Blind stuck in seminar room 3"
    )
