"""The audit log of what admins do to accounts and mail: who, what, to whom, when, from where.

Each entry is written by the domain function that makes the change, in the change's own
transaction, so no entry point can change an account without its entry, nor log a change that
was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from ..encoding import isoformat
from ..models import AuditAction, AuditEntry, User
from .access import require_admin
from .serialize import user_ref


@dataclass(frozen=True)
class Actor:
    """Who acts and from which client address: what an audited change is given by the route."""

    user: User
    client_address: str | None = None


async def record(
    connection: BaseDBAsyncClient,
    actor: Actor,
    action: AuditAction,
    *,
    target: User | None = None,
    **details: Any,
) -> None:
    """Write one entry inside the caller's transaction."""
    await AuditEntry.create(
        actor=actor.user,
        action=action,
        target=target,
        details=details,
        client_address=actor.client_address,
        using_db=connection,
    )


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry]
    next_cursor: str | None


async def audit_page(admin: User, *, cursor: int | None = None, limit: int = 50) -> AuditPage:
    """Newest first; the cursor is the last entry's id, so new entries never shift a page."""
    require_admin(admin)
    query = AuditEntry.all().select_related("actor", "target").order_by("-id")
    if cursor is not None:
        query = query.filter(id__lt=cursor)
    rows = list(await query.limit(limit + 1))
    more = len(rows) > limit
    items = rows[:limit]
    return AuditPage(items, str(items[-1].id) if more else None)


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    """Needs `actor` and `target` fetched beforehand."""
    return {
        "id": entry.id,
        "action": entry.action.value,
        "actor": user_ref(entry.actor),
        "target": user_ref(entry.target) if entry.target else None,
        "details": entry.details,
        "client_address": entry.client_address,
        "at": isoformat(entry.at),
    }
