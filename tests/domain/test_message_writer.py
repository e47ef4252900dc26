"""Group commit: messages written at the same moment share transactions, yet each is stored,
logged, acked and refused exactly as if it had been written alone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from tortoise.exceptions import IntegrityError

from helpdesk.allowances import Allowances
from helpdesk.domain.events import EventLog, LoggedEvent, ticket_room
from helpdesk.domain.message_writer import Draft, MessageWriter
from helpdesk.domain.messages import post_message
from helpdesk.domain.tickets import TicketDraft, create_ticket
from helpdesk.errors import Conflict
from helpdesk.models import Category, Event, Message, Role, Ticket, User
from helpdesk.web.context import HelpdeskApp
from tests.conftest import make_user, unlimited_allowances


@dataclass
class Published:
    """What the event log handed to the live layer, one entry per committed transaction."""

    commits: list[tuple[list[LoggedEvent], bool]] = field(default_factory=list)

    async def __call__(self, events: list[LoggedEvent], *, tickets_changed: bool) -> None:
        self.commits.append((events, tickets_changed))

    @property
    def events(self) -> list[LoggedEvent]:
        return [event for events, _ in self.commits for event in events]


@dataclass
class Desk:
    writer: MessageWriter
    allowances: Allowances
    published: Published
    reporter: User
    staff: User
    tickets: list[Ticket]


@pytest.fixture
async def desk(app: HelpdeskApp) -> Desk:
    reporter = await make_user("rita")
    staff = await make_user("sam", Role.STAFF)
    draft = TicketDraft("Heater broken", "Room 12 is cold.", Category.FACILITIES)
    allowances = unlimited_allowances()
    tickets = [await create_ticket(EventLog(), allowances, reporter, draft) for _ in range(3)]
    published = Published()
    writer = MessageWriter(EventLog(published))
    return Desk(writer, allowances, published, reporter, staff, tickets)


async def test_concurrent_messages_share_transactions_and_keep_their_own_events(desk):
    writers = [
        post_message(
            desk.writer,
            desk.allowances,
            author,
            ticket.id,
            f"message {index}",
            client_id=f"c{index}",
        )
        for index in range(24)
        for author, ticket in [
            ((desk.reporter, desk.staff)[index % 2], desk.tickets[index % len(desk.tickets)])
        ]
    ]
    posted = await asyncio.gather(*writers)

    assert len(desk.published.commits) < len(posted)  # shared transactions, not one each
    assert [p.message.body for p in posted] == [f"message {index}" for index in range(24)]
    assert not any(p.duplicate for p in posted)
    stored = {m.id: m for m in await Message.all()}
    assert len(stored) == 24
    events = {event.id: event for event in desk.published.events}
    assert sorted(events) == [event.id for event in desk.published.events]  # in id order
    for p in posted:
        assert stored[p.message.id].body == p.message.body
        assert stored[p.message.id].event_id == p.event_id
        event = events[p.event_id]
        assert event.room == ticket_room(p.message.ticket_id)
        assert f'"id":{p.message.id},' in event.data
    for ticket in desk.tickets:  # each room's events follow its messages' order
        in_room = [p for p in posted if p.message.ticket_id == ticket.id]
        by_message = sorted(in_room, key=lambda p: p.message.id)
        assert [p.event_id for p in by_message] == sorted(p.event_id for p in in_room)
    assert await Event.filter(kind="message.created").count() == len(desk.published.events)


async def test_a_client_id_repeated_within_one_batch_stores_one_message(desk):
    ticket = desk.tickets[0]
    first, again, other = await asyncio.gather(
        post_message(
            desk.writer, desk.allowances, desk.reporter, ticket.id, "hello", client_id="same"
        ),
        post_message(
            desk.writer, desk.allowances, desk.reporter, ticket.id, "hello", client_id="same"
        ),
        post_message(
            desk.writer, desk.allowances, desk.reporter, ticket.id, "and more", client_id="next"
        ),
    )

    # Which of the two gets there first is the pool's to decide (PostgreSQL runs their
    # lookups on two connections at once): one is stored, the other answered with it.
    assert sorted([first.duplicate, again.duplicate]) == [False, True]
    assert other.duplicate is False
    assert again.message.id == first.message.id and again.event_id == first.event_id
    assert await Message.filter(ticket_id=ticket.id).count() == 2


async def test_a_reused_client_id_is_refused_alone(desk):
    used = await post_message(
        desk.writer, desk.allowances, desk.reporter, desk.tickets[0].id, "hi", client_id="k"
    )

    results = await asyncio.gather(
        post_message(
            desk.writer,
            desk.allowances,
            desk.reporter,
            desk.tickets[1].id,
            "elsewhere",
            client_id="k",
        ),
        post_message(
            desk.writer, desk.allowances, desk.reporter, desk.tickets[1].id, "fine", client_id="k2"
        ),
        post_message(
            desk.writer, desk.allowances, desk.reporter, desk.tickets[0].id, "hi", client_id="k"
        ),
        return_exceptions=True,
    )

    assert isinstance(results[0], Conflict)
    assert results[1].message.body == "fine" and not results[1].duplicate
    assert results[2].message.id == used.message.id and results[2].duplicate
    assert await Message.filter(client_id="k").count() == 1


async def test_a_batch_the_database_refuses_is_retried_one_message_at_a_time(desk):
    ticket = desk.tickets[0]
    gone = Ticket(id=ticket.id + 1000, reporter_id=desk.reporter.id)  # no such row: a foreign key

    results = await asyncio.gather(
        desk.writer.write(Draft(desk.reporter, ticket, "before", False, None)),
        desk.writer.write(Draft(desk.reporter, gone, "lost", False, None)),
        desk.writer.write(Draft(desk.reporter, ticket, "after", False, None)),
        return_exceptions=True,
    )

    assert isinstance(results[1], IntegrityError)
    assert [r.message.body for r in (results[0], results[2])] == ["before", "after"]
    stored = await Message.filter(ticket_id=ticket.id).order_by("id").values_list("body", flat=True)
    assert stored == ["before", "after"]
    assert await Message.filter(body="lost").count() == 0


async def test_a_caller_gone_before_its_batch_begins_is_left_out(desk):
    ticket = desk.tickets[0]
    kept = asyncio.create_task(desk.writer.write(Draft(desk.reporter, ticket, "kept", False, None)))
    dropped = asyncio.create_task(
        desk.writer.write(Draft(desk.reporter, ticket, "dropped", False, None))
    )
    await asyncio.sleep(0)  # both are waiting for the batch, which has not begun
    dropped.cancel()

    assert (await kept).message.body == "kept"
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert await Message.filter(ticket_id=ticket.id).values_list("body", flat=True) == ["kept"]


async def test_a_batch_keeps_the_reply_clocks_of_every_ticket_in_it(desk):
    answered, noted = desk.tickets[0], desk.tickets[1]
    await asyncio.gather(
        desk.writer.write(Draft(desk.staff, answered, "On my way.", False, None)),
        desk.writer.write(Draft(desk.staff, answered, "Bringing a spare heater.", False, None)),
        desk.writer.write(Draft(desk.staff, noted, "Check the fuse first", True, None)),
    )

    [(_, tickets_changed)] = desk.published.commits  # one transaction for all three
    assert tickets_changed  # a first response moves the analytics
    replied_at = {m.created_at for m in await Message.filter(ticket_id=answered.id)}
    assert len(replied_at) == 1
    stored = await Ticket.get(id=answered.id)
    assert stored.first_response_at == stored.last_message_at == replied_at.pop()
    assert stored.first_response_seconds is not None
    untouched = await Ticket.get(id=noted.id)  # an internal note is no reply
    assert untouched.first_response_at is None and untouched.last_message_at is None

    desk.published.commits.clear()
    later = await post_message(desk.writer, desk.allowances, desk.staff, answered.id, "Fixed?")
    assert [changed for _, changed in desk.published.commits] == [False]
    again = await Ticket.get(id=answered.id)
    assert again.first_response_at == stored.first_response_at
    assert again.last_message_at == later.message.created_at
