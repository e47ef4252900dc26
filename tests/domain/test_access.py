"""Reading a ticket for an access check: the quick read gives what Tortoise's query gives."""

from __future__ import annotations

import pytest

from helpdesk.domain.access import visible_ticket
from helpdesk.domain.events import EventLog
from helpdesk.domain.tickets import TicketDraft, create_ticket
from helpdesk.errors import NotFound
from helpdesk.models import Category, Priority, Role, Ticket
from tests.conftest import make_user, unlimited_allowances


async def test_the_quick_read_matches_the_orm_field_for_field(app):
    reporter = await make_user("rita")
    staff = await make_user("sam", Role.STAFF)
    draft = TicketDraft("Heater broken", "Cold.", Category.FACILITIES, "Dorm B", Priority.HIGH)
    created = await create_ticket(EventLog(), unlimited_allowances(), reporter, draft)
    await Ticket.filter(id=created.id).update(assignee_id=staff.id)

    quick = await visible_ticket(staff, created.id)
    orm = await Ticket.get(id=created.id)

    for name in orm._meta.db_fields:
        assert getattr(quick, name) == getattr(orm, name), name
    assert isinstance(quick.status, type(orm.status)) and quick.created_at.tzinfo is not None
    with pytest.raises(NotFound):
        await visible_ticket(await make_user("oscar"), created.id)
    with pytest.raises(NotFound):
        await visible_ticket(staff, created.id + 1)
