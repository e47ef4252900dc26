"""The status workflow: which moves exist and who may make each."""

from __future__ import annotations

from ..errors import Forbidden, InvalidTransition
from ..models import Status, User

# (from, to) -> whether the ticket's reporter may make the move too (staff always may).
TRANSITIONS: dict[tuple[Status, Status], bool] = {
    (Status.OPEN, Status.ACTIVE): False,
    (Status.ACTIVE, Status.CLOSED): False,
    (Status.CLOSED, Status.ACTIVE): True,  # a reopen
}


def allowed_targets(current: Status) -> list[Status]:
    """The statuses the workflow allows from `current`, whoever asks."""
    return [to for (frm, to) in TRANSITIONS if frm == current]


def targets_for(user: User, current: Status) -> list[Status]:
    """The moves `user` may make from `current` (for buttons that only offer what will work)."""
    return [
        to
        for (frm, to), reporter_may in TRANSITIONS.items()
        if frm == current and (user.is_staff or reporter_may)
    ]


def check_transition(user: User, current: Status, target: Status) -> None:
    """Raise 409 for a move the workflow lacks, 403 for one this user's role may not make."""
    move = (current, target)
    if move not in TRANSITIONS:
        allowed = [status.value for status in allowed_targets(current)]
        raise InvalidTransition(
            f"a {current.value} ticket cannot move to {target.value}; "
            f"allowed: {', '.join(allowed) or 'none'}",
            field="status",
            allowed=allowed,
        )
    if not user.is_staff and not TRANSITIONS[move]:
        raise Forbidden(f"only staff may move a ticket from {current.value} to {target.value}")
