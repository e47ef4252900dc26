"""Who is acting and from where, for the audit log of what admins change."""

from __future__ import annotations

from ..domain.audit import Actor
from .sessions import client_address, require_account


async def acting() -> Actor:
    """The signed-in person, with the client address their change is logged under."""
    return Actor(await require_account(), client_address())
