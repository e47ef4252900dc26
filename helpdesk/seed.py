"""Demo data: accounts to sign in with and months of believable campus tickets, fast and repeatable."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from .domain.accounts import hash_password
from .domain.events import BOARD_ROOM, ticket_room, user_room
from .domain.serialize import ticket_json
from .encoding import dumps
from .models import (
    Affected,
    Category,
    Event,
    KnownIssue,
    KnownIssueUpdate,
    Message,
    Priority,
    Role,
    Status,
    StatusChange,
    Ticket,
    TicketMerge,
    User,
    seconds_between,
    utcnow,
)

DEMO_PASSWORD = "campus-demo-2026"
OUTAGE_TICKETS = 2  # the demo's known issue and the duplicate merged into it


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    password: str = DEMO_PASSWORD


DEMO_ACCOUNTS = [
    DemoAccount("alice", "Alice Chen", Role.USER),
    DemoAccount("ben", "Ben Okafor", Role.USER),
    DemoAccount("sam", "Sam Rivera", Role.STAFF),
    DemoAccount("priya", "Priya Nair", Role.STAFF),
    DemoAccount("admin", "Helpdesk Admin", Role.ADMIN),
]
MORE_STUDENTS = [
    "Chloé Martin",
    "Dev Patel",
    "Emma Schmidt",
    "Farah Haddad",
    "Gabriel Silva",
    "Hana Suzuki",
    "Ivan Petrov",
    "Jade Williams",
    "Kofi Mensah",
    "Lena Novak",
    "Mateo García",
    "Nora Lindqvist",
    "Omar Farouk",
    "Paula Costa",
    "Quinn Murphy",
    "Rosa Delgado",
    "Sven Larsen",
    "Tara O'Neill",
    "Umar Sheikh",
    "Vera Ivanova",
    "Wei Zhang",
    "Yusuf Demir",
    "Zoe Adams",
    "Liam Byrne",
]
MORE_STAFF = ["Marco Rossi", "Grace Kim"]

BUILDINGS = {
    "Dorm A": ["room 104", "room 212", "room 318", "kitchen, 2nd floor", "laundry room"],
    "Dorm B": ["room 214", "room 120", "room 305", "common room", "bathroom, 1st floor"],
    "Dorm C": ["room 011", "room 207", "study room", "entrance hall"],
    "Library": ["2nd floor", "silent study area", "group room 3", "ground floor desk"],
    "Science Hall": ["lab 1.14", "lecture hall S1", "room 2.08"],
    "Engineering Building": ["workshop", "room E204", "computer lab E1"],
    "Student Union": ["café", "main hall", "meeting room 2"],
    "Cafeteria": ["main counter", "seating area", "salad bar"],
    "Sports Center": ["changing rooms", "gym", "pool"],
}
PROBLEMS: dict[Category, list[tuple[str, str]]] = {
    Category.FACILITIES: [
        (
            "No heating in {place}",
            "The radiator has been cold since yesterday evening. It is about 14°C inside.",
        ),
        (
            "Leaking tap in {place}",
            "The tap drips constantly and there is a puddle under the sink.",
        ),
        (
            "Broken window latch in {place}",
            "The window will not close properly, so it is draughty and cannot be locked.",
        ),
        (
            "Lights flickering in {place}",
            "The ceiling lights flicker on and off every few seconds.",
        ),
        (
            "Door lock jammed at {place}",
            "The key turns but the lock does not open; I had to ask a neighbour to let me in.",
        ),
        (
            "Mould on the ceiling in {place}",
            "There is a dark patch of mould above the window that keeps growing.",
        ),
    ],
    Category.IT: [
        (
            "No wifi in {place}",
            "Neither eduroam nor the guest network shows up at all since this morning.",
        ),
        (
            "Eduroam keeps disconnecting in {place}",
            "The connection drops every few minutes, on my laptop and my phone.",
        ),
        (
            "Printer not working in {place}",
            "The printer shows 'offline' and jobs stay in the queue.",
        ),
        (
            "Projector will not connect in {place}",
            "HDMI and the wireless display both fail; the lecture starts at 10.",
        ),
        (
            "Cannot sign in to the student portal",
            "It says my password is wrong although it works for email.",
        ),
        (
            "Lab PC will not boot in {place}",
            "Three machines in the back row stop at a black screen.",
        ),
    ],
    Category.SERVICES: [
        ("Vending machine took my money at {place}", "I paid 2.50 by card and nothing came out."),
        (
            "Laundry machine broken in {place}",
            "Machine 3 stops mid-cycle with the door locked and my clothes inside.",
        ),
        ("Long queue at {place}", "Waited over 40 minutes; only one counter was open."),
        (
            "Closed earlier than posted at {place}",
            "The sign says it is open until 20:00 but it closed at 18:30.",
        ),
        ("Noise at night near {place}", "Loud music until 3 am on weeknights for the past week."),
    ],
}
STAFF_REPLIES = [
    "Thanks for reporting this. I have passed it to the team on site.",
    "Sorry about that! Someone will come by today between 14:00 and 16:00.",
    "Could you tell me when exactly this started?",
    "We are aware of an outage in that area and are working on it.",
]
REPORTER_FOLLOW_UPS = [
    "It started on Monday evening.",
    "Thank you! I will be in until 17:00.",
    "It is still happening, unfortunately.",
    "Great, that fixed it.",
]
INTERNAL_NOTES = [
    "Contractor booked for Thursday morning.",
    "Same access point failed last month; asked networking to replace it.",
    "Refund approved, cash office informed.",
]
CLOSING_REPLIES = [
    "This is fixed now. Please reopen the ticket if it happens again.",
    "The technician replaced the part this morning. Closing the ticket.",
]


def _campus_hour(rng: random.Random, day: datetime) -> datetime:
    """Most problems are reported during the day; some late at night."""
    hour = int(min(23, max(0, rng.gauss(13, 4))))
    return day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))


async def _demo_users() -> tuple[list[User], list[User]]:
    shared_hash = await hash_password(DEMO_PASSWORD)
    reporters, staff = [], []
    accounts = [(a.username, a.display_name, a.role) for a in DEMO_ACCOUNTS]
    accounts += [
        (name.split()[0].lower().replace("é", "e").replace("'", ""), name, Role.USER)
        for name in MORE_STUDENTS
    ]
    accounts += [(name.split()[0].lower(), name, Role.STAFF) for name in MORE_STAFF]
    for username, display_name, role in accounts:
        user = await User.create(
            username=username,
            display_name=display_name,
            password_hash=shared_hash,
            role=role,
            created_at=utcnow() - timedelta(days=120),
        )
        (staff if user.is_staff else reporters).append(user)
    return reporters, staff


async def seed(*, tickets: int = 2000, days: int = 90, rng_seed: int = 2026) -> int:
    """Create demo accounts and `tickets` tickets over the last `days` days; 0 if already seeded."""
    if await User.exists(username=DEMO_ACCOUNTS[0].username):
        return 0
    rng = random.Random(rng_seed)
    now = utcnow()
    async with in_transaction("default"):
        reporters, staff = await _demo_users()
        recent = now - timedelta(days=2)
        messages: list[Message] = []
        changes: list[StatusChange] = []
        events: list[Event] = []
        for _ in range(max(0, tickets - OUTAGE_TICKETS)):
            created = _campus_hour(rng, now - timedelta(days=rng.uniform(0, days)))
            created = min(created, now - timedelta(minutes=5))
            ticket = await _seed_ticket(rng, created, now, reporters, staff, messages, changes)
            if created >= recent:
                data = dumps(ticket_json(ticket))
                for room in (ticket_room(ticket.id), BOARD_ROOM, user_room(ticket.reporter_id)):
                    events.append(
                        Event(room=room, kind="ticket.created", data=data, created_at=created)
                    )
        await Message.bulk_create(messages, batch_size=500)
        await StatusChange.bulk_create(changes, batch_size=500)
        await Event.bulk_create(sorted(events, key=lambda e: e.created_at), batch_size=500)
        if tickets >= OUTAGE_TICKETS:
            await _demo_outage(now, reporters, staff[0])
    return tickets


async def _demo_outage(now: datetime, reporters: list[User], publisher: User) -> None:
    """This morning's library wifi outage, published as a known issue with a duplicate merged
    and students affected, so the known issues can be seen at once (alice is not affected yet:
    she can say so)."""
    first, *others = [user for user in reporters if user.username != "alice"][:4]
    reported = now - timedelta(hours=3)
    ticket = await Ticket.create(
        reporter=first,
        assignee=publisher,
        title="Eduroam keeps dropping on the 2nd floor",
        description="My laptop and phone both lose the connection every few minutes.",
        category=Category.IT,
        location="Library, 2nd floor",
        priority=Priority.HIGH,
        status=Status.ACTIVE,
        created_at=reported,
        updated_at=now - timedelta(hours=2),
        first_response_at=now - timedelta(hours=2),
        first_response_seconds=3600,
    )
    issue = await KnownIssue.create(
        ticket=ticket,
        public_title="Library wifi outage",
        public_note="Eduroam drops on the 2nd and 3rd floors. The network team is on it.",
        building="Library",
        published_by=publisher,
        published_at=now - timedelta(hours=2),
        updated_at=now - timedelta(hours=1),
    )
    await KnownIssueUpdate.create(
        known_issue=issue,
        author=publisher,
        body="A faulty access point was found; a replacement is on its way.",
        created_at=now - timedelta(hours=1),
    )
    await Affected.create(known_issue=issue, user=first, created_at=issue.published_at)
    duplicate = await Ticket.create(
        reporter=others[0],
        title="No internet in the library",
        description="Cannot connect since 9.",
        category=Category.IT,
        location="Library",
        status=Status.CLOSED,
        created_at=reported + timedelta(minutes=20),
        updated_at=now - timedelta(minutes=90),
        closed_at=now - timedelta(minutes=90),
        resolution_seconds=round((now - reported).total_seconds()) - 6600,
        merged_into_id=issue.id,
    )
    await TicketMerge.create(ticket=duplicate, known_issue=issue, actor=publisher, at=now)
    for user in others:
        await Affected.create(known_issue=issue, user=user, merged=user is others[0])
    await Ticket.filter(id=ticket.id).update(
        known_issue_id=issue.id, affected_count=len(others) + 1
    )


async def _seed_ticket(
    rng: random.Random,
    created: datetime,
    now: datetime,
    reporters: list[User],
    staff: list[User],
    messages: list[Message],
    changes: list[StatusChange],
) -> Ticket:
    category = rng.choices(list(Category), weights=[5, 4, 2])[0]
    title, description = rng.choice(PROBLEMS[category])
    building = rng.choices(list(BUILDINGS), weights=[6, 6, 4, 5, 3, 3, 2, 2, 2])[0]
    place = f"{building}, {rng.choice(BUILDINGS[building])}"
    reporter = rng.choice(reporters)
    agent = rng.choice(staff)
    age = now - created
    # Older tickets are mostly resolved; the last day's are mostly still waiting.
    if age > timedelta(days=3):
        status = rng.choices(list(Status), weights=[1, 2, 30])[0]
    else:
        status = rng.choices(list(Status), weights=[5, 3, 2])[0]
    typical = 4.0 if category == Category.IT else 4.8  # IT answers faster than facilities
    response_delay = timedelta(minutes=rng.lognormvariate(typical, 0.9))
    first_response = created + response_delay if status != Status.OPEN else None
    if first_response and first_response > now:
        first_response = now - timedelta(minutes=1)
    closed_at = None
    if status == Status.CLOSED:
        assert first_response is not None
        closed_at = min(first_response + timedelta(hours=rng.lognormvariate(2.5, 1.1)), now)
    ticket = await Ticket.create(
        reporter=reporter,
        assignee=agent if status != Status.OPEN else None,
        title=title.format(place=building),
        description=description,
        category=category,
        location=place,
        priority=rng.choices(list(Priority), weights=[2, 12, 4, 1])[0],
        status=status,
        version=1 + (status != Status.OPEN) + (status == Status.CLOSED),
        created_at=created,
        updated_at=closed_at or first_response or created,
        first_response_at=first_response,
        closed_at=closed_at,
        last_message_at=closed_at or first_response,
        first_response_seconds=seconds_between(first_response, created),
        resolution_seconds=seconds_between(closed_at, created),
    )
    ticket.reporter, ticket.assignee = reporter, ticket.assignee
    if first_response is None:
        return ticket
    conversation = [(agent, rng.choice(STAFF_REPLIES), False, first_response)]
    if rng.random() < 0.5:
        conversation.append(
            (
                reporter,
                rng.choice(REPORTER_FOLLOW_UPS),
                False,
                first_response + timedelta(minutes=20),
            )
        )
    if rng.random() < 0.3:
        conversation.append(
            (agent, rng.choice(INTERNAL_NOTES), True, first_response + timedelta(minutes=5))
        )
    changes.append(
        StatusChange(
            ticket=ticket,
            actor=agent,
            from_status=Status.OPEN,
            to_status=Status.ACTIVE,
            at=first_response,
        )
    )
    if closed_at is not None:
        conversation.append((agent, rng.choice(CLOSING_REPLIES), False, closed_at))
        changes.append(
            StatusChange(
                ticket=ticket,
                actor=agent,
                from_status=Status.ACTIVE,
                to_status=Status.CLOSED,
                note="Resolved",
                at=closed_at,
            )
        )
    for author, body, internal, at in sorted(conversation, key=lambda item: item[3]):
        messages.append(
            Message(
                ticket=ticket,
                author=author,
                body=body,
                internal=internal,
                created_at=min(at, closed_at or now),
            )
        )
    return ticket
