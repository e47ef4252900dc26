"""Managing accounts as an admin: finding them, and changing a role or whether one may sign in.

Every change is checked, made and written to the audit log in one transaction. An admin cannot
demote or deactivate themselves, and the last active admin is never demoted or deactivated:
the admins' rows are locked first, so two admins demoting each other at once cannot both win.
Closing the person's sockets is `Sessions`'s part (helpdesk/domain/accounts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from ..encoding import isoformat
from ..errors import Conflict, NotFound, ValidationFailed
from ..models import AuditAction, Role, User
from . import audit
from .access import require_admin
from .fields import in_id_range


@dataclass(frozen=True)
class UserPage:
    items: list[User]
    next_cursor: str | None


async def find_users(
    admin: User,
    *,
    q: str | None = None,
    role: Role | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> UserPage:
    """Newest accounts first, matching `q` in the username, display name or email address;
    the cursor is the last row's id, as in the tickets list."""
    require_admin(admin)
    query = User.all().order_by("-id")
    if q:
        query = query.filter(
            Q(username__icontains=q) | Q(display_name__icontains=q) | Q(email__icontains=q)
        )
    if role is not None:
        query = query.filter(role=role)
    if cursor is not None:
        query = query.filter(id__lt=cursor)
    rows = list(await query.limit(limit + 1))
    items = rows[:limit]
    return UserPage(items, str(items[-1].id) if len(rows) > limit else None)


def account_json(user: User) -> dict[str, Any]:
    """What an admin sees of an account: never its password hash."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "email": user.email,
        "email_confirmed": user.email_confirmed,
        "is_active": user.is_active,
        "university_account": user.oidc_subject is not None,
        "created_at": isoformat(user.created_at),
    }


async def account(admin: User, user_id: int) -> User:
    require_admin(admin)
    user = await User.get_or_none(id=user_id) if in_id_range(user_id) else None
    if user is None:
        raise NotFound("no such user")
    return user


async def _locked(connection: BaseDBAsyncClient, user_id: int) -> User:
    user = (
        await User.filter(id=user_id).select_for_update().using_db(connection).first()
        if in_id_range(user_id)
        else None
    )
    if user is None:
        raise NotFound("no such user")
    return user


async def _lock_admins(connection: BaseDBAsyncClient) -> list[int]:
    """The active admins' ids, their rows locked (in id order, always before the account's own
    row, so two changes never wait on each other) until the transaction ends."""
    rows = (
        await User.filter(role=Role.ADMIN, is_active=True)
        .order_by("id")
        .select_for_update()
        .using_db(connection)
    )  # whole rows: Tortoise leaves FOR UPDATE out of a values_list query
    return [row.id for row in rows]


def _keep_an_admin(admins: list[int], user: User, doing: str) -> None:
    """Refuse to take away the last active admin."""
    if user.id in admins and len(admins) <= 1:
        raise Conflict(
            f"{user.username} is the last admin and cannot be {doing}: make another account "
            "an admin first"
        )


async def change_role(actor: audit.Actor, user_id: int, role: Role) -> tuple[User, bool]:
    """Give an account another role; the account, and whether its role changed."""
    require_admin(actor.user)
    if user_id == actor.user.id and role != Role.ADMIN:
        raise ValidationFailed(
            "you cannot remove your own admin role: another admin can", field="role"
        )
    async with in_transaction("default") as connection:
        admins = await _lock_admins(connection)
        user = await _locked(connection, user_id)
        previous = user.role
        if previous == role:
            return user, False
        if previous == Role.ADMIN:
            _keep_an_admin(admins, user, "demoted")
        user.role = role
        await user.save(update_fields=["role"], using_db=connection)
        await audit.record(
            connection,
            actor,
            AuditAction.ROLE_CHANGED,
            target=user,
            **{"from": previous.value, "to": role.value},
        )
    return user, True


async def change_active(actor: audit.Actor, user_id: int, active: bool) -> tuple[User, bool]:
    """Let an account sign in again, or stop it; the account, and whether that changed."""
    require_admin(actor.user)
    if user_id == actor.user.id and not active:
        raise ValidationFailed("you cannot deactivate your own account", field="is_active")
    async with in_transaction("default") as connection:
        admins = await _lock_admins(connection)
        user = await _locked(connection, user_id)
        if user.is_active == active:
            return user, False
        if user.role == Role.ADMIN and not active:
            _keep_an_admin(admins, user, "deactivated")
        user.is_active = active
        await user.save(update_fields=["is_active"], using_db=connection)
        action = AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED
        await audit.record(connection, actor, action, target=user)
    return user, True
