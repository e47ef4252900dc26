"""Single-use links sent by mail (password resets, address confirmations).

The token is 256 random bits in the link and only its sha256 in the database, so a copy of the
database opens nothing. A token is spent by one conditional UPDATE, so two clicks racing each
other cannot both use it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from ..models import MailedToken, TokenPurpose, User, utcnow

MAX_TOKEN_CHARS = 128  # a token_urlsafe(32) is 43; anything far longer is not ours


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    user: User, purpose: TokenPurpose, lifetime: timedelta, *, connection: BaseDBAsyncClient
) -> str:
    """A new token for `user`, valid for `lifetime`; it commits with `connection`."""
    token = secrets.token_urlsafe(32)
    await MailedToken.create(
        id=_key(token),
        user=user,
        purpose=purpose,
        expires_at=utcnow() + lifetime,
        using_db=connection,
    )
    return token


def _usable(token: str, purpose: TokenPurpose) -> QuerySet[MailedToken]:
    return MailedToken.filter(
        id=_key(token), purpose=purpose, used_at=None, expires_at__gt=utcnow()
    )


async def holder(token: str, purpose: TokenPurpose) -> User | None:
    """The active account an unused, unexpired token belongs to; None for anything else, with
    no word on which (unknown, used, expired or deactivated)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    row = await _usable(token, purpose).select_related("user").first()
    if row is None or not row.user.is_active:
        return None
    return row.user


async def spend(
    token: str, purpose: TokenPurpose, *, connection: BaseDBAsyncClient | None = None
) -> User | None:
    """Use the token up; its account, or None when it was not usable (or another use won)."""
    user = await holder(token, purpose)
    if user is None:
        return None
    spent = await _usable(token, purpose).using_db(connection).update(used_at=utcnow())
    return user if spent == 1 else None


async def spend_all(user: User, purpose: TokenPurpose, *, connection: BaseDBAsyncClient) -> None:
    """Use up every other open token of `user` for `purpose` (after a reset, older links die)."""
    await (
        MailedToken.filter(user_id=user.id, purpose=purpose, used_at=None)
        .using_db(connection)
        .update(used_at=utcnow())
    )
