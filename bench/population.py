"""Who exists in the benchmark database and who sits in which room, decided before seeding.

Ids follow from the scale alone (staff first, then reporters, tickets in id order), so the bare
websockets ceiling can be given the same room pattern without reading the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .config import Scale


@dataclass(frozen=True)
class Plan:
    staff: int
    reporters: int
    tickets: int
    messages: int
    open_prefix: int  # tickets 1..open_prefix are open and unassigned: the live rooms and writers

    @classmethod
    def for_scale(cls, scale: Scale) -> Plan:
        rooms = max(scale.rooms, scale.soak_rooms)
        staff = rooms * (scale.members_per_room - 1) + scale.board_sockets
        reporters = max(scale.idle_sockets[1], rooms, scale.writers)
        if reporters > scale.tickets:
            raise ValueError("every reporter needs a ticket: raise `tickets`")
        return cls(
            staff=staff,
            reporters=reporters,
            tickets=scale.tickets,
            messages=scale.messages,
            open_prefix=max(rooms, scale.writers),
        )

    def staff_id(self, index: int) -> int:
        return 1 + index

    def reporter_id(self, index: int) -> int:
        return 1 + self.staff + index

    def reporter_of(self, ticket_id: int) -> int:
        """Ticket n belongs to reporter (n-1) mod reporters: reporter i's first ticket is i+1."""
        return self.reporter_id((ticket_id - 1) % self.reporters)

    @property
    def user_count(self) -> int:
        return self.staff + self.reporters


@dataclass(frozen=True)
class Room:
    ticket_id: int
    members: tuple[int, ...]  # user ids; the first is the ticket's reporter, the rest staff

    @property
    def name(self) -> str:
        return f"ticket:{self.ticket_id}"


@dataclass(frozen=True)
class Layout:
    """Sockets of a live scenario: one per member of each ticket room, plus staff on the board."""

    rooms: tuple[Room, ...]
    board: tuple[int, ...]

    @classmethod
    def build(cls, plan: Plan, rooms: int, members: int, board: int) -> Layout:
        staff_per_room = members - 1
        built = tuple(
            Room(
                ticket_id=r + 1,
                members=(
                    plan.reporter_of(r + 1),
                    *(plan.staff_id(r * staff_per_room + k) for k in range(staff_per_room)),
                ),
            )
            for r in range(rooms)
        )
        first_board = rooms * staff_per_room
        return cls(built, tuple(plan.staff_id(first_board + b) for b in range(board)))

    def to_json(self) -> dict:
        return asdict(self)

    def reporters(self) -> dict[int, int]:
        """ticket id -> reporter id: what the bare server needs for the reporter's user room."""
        return {room.ticket_id: room.members[0] for room in self.rooms}
