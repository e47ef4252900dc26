"""Accounts and sessions: argon2 hashes, a password policy, revocable server-side sessions."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction
from zxcvbn import zxcvbn

from ..allowances import Allowance
from ..errors import NotFound, Unauthenticated, ValidationFailed
from ..models import AuditAction, AuthSession, Role, TokenPurpose, User, utcnow
from ..sql import Database
from . import audit, mailed_tokens, users
from .access import require_admin
from .audit import Actor

SESSION_LIFETIME = timedelta(days=30)
RESET_LIFETIME = timedelta(hours=1)
MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 2  # zxcvbn: 0 too guessable ... 4 very unguessable

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
# Each argon2 run holds 64 MiB: one per core at a time, so a burst of sign-ins from strangers
# waits its turn instead of taking hundreds of megabytes at once.
_ARGON2 = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="argon2")
T = TypeVar("T")


async def _argon2(work: Callable[[], T]) -> T:
    """Argon2 is deliberately slow; run it off the event loop, a bounded few at a time."""
    return await asyncio.get_running_loop().run_in_executor(_ARGON2, work)


async def hash_password(password: str) -> str:
    return await _argon2(lambda: _hasher.hash(password))


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await _argon2(verify)


def login_name(username: str) -> str:
    """The account a sign-in names: what `authenticate` looks up and the limit counts against."""
    return username.strip().lower()


def account_key(username: str) -> str:
    return f"user:{login_name(username)}"


def check_password_policy(password: str, *, username: str, display_name: str = "") -> None:
    """Length, not built from the username, and not a common or easily guessed password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if username and username.lower() in password.lower():
        raise ValidationFailed("the password must not contain the username", field="password")
    verdict = zxcvbn(password[:100], user_inputs=[username, display_name])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        hint = verdict["feedback"]["warning"] or "it is too easy to guess"
        raise ValidationFailed(
            f"choose a stronger password: {hint.rstrip('.').lower()}", field="password"
        )


async def create_user(
    username: str,
    password: str,
    *,
    display_name: str | None = None,
    email: str | None = None,
    role: Role = Role.USER,
    enforce_policy: bool = True,
    email_confirmed: bool = True,
    by: Actor | None = None,
) -> User:
    """Create an account; a taken username is a validation error on `username`. Made `by` an
    admin, it is written to the audit log with the account."""
    if by is not None:
        require_admin(by.user)
    display_name = display_name or username
    if enforce_policy:
        check_password_policy(password, username=username, display_name=display_name)
    if await User.exists(username=username):
        raise ValidationFailed("that username is taken", field="username")
    password_hash = await hash_password(password)
    try:
        async with in_transaction("default") as connection:
            user = await User.create(
                username=username,
                display_name=display_name,
                email=email or None,
                password_hash=password_hash,
                role=role,
                email_confirmed=email_confirmed,
                using_db=connection,
            )
            if by is not None:
                await audit.record(
                    connection, by, AuditAction.ACCOUNT_CREATED, target=user, role=role.value
                )
    except IntegrityError:
        raise ValidationFailed("that username is taken", field="username") from None
    return user


async def accounts_for_login(login: str) -> list[User]:
    """The active accounts a "forgot my password" names: by username, or all with that email
    address (addresses are not unique)."""
    login = login.strip()
    if "@" in login:
        return await User.filter(email__iexact=login, is_active=True).order_by("id")
    return await User.filter(username=login_name(login), is_active=True)


async def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or None; as slow for unknown names as for known."""
    user = await User.get_or_none(username=login_name(username))
    if user is None:
        await verify_password(_DUMMY_HASH, password)
        return None
    if not await verify_password(user.password_hash, password):
        return None
    if not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
        await user.save(update_fields=["password_hash"])
    return user


def _session_key(token: str) -> str:
    """Sessions are stored by hash, so a copy of the database holds no usable cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_key: str


async def start_session(user: User) -> str:
    """A fresh session token for the cookie; a new one on every sign-in."""
    token = secrets.token_urlsafe(32)
    await AuthSession.create(
        id=_session_key(token), user=user, expires_at=utcnow() + SESSION_LIFETIME
    )
    return token


async def resolve_session(token: str) -> SignedIn | None:
    """The active user behind a cookie's token; None once revoked, expired or deactivated."""
    if not token or len(token) > 128:
        return None
    key = _session_key(token)
    # Every request asks this, so it is plain SQL: Tortoise took longer to build the join
    # than the database took to answer it.
    rows = await Database().rows(
        'SELECT u.* FROM auth_session s JOIN "user" u ON u.id = s.user_id '
        "WHERE s.id = :key AND s.expires_at > :now AND u.is_active",
        key=key,
        now=utcnow(),
    )
    return SignedIn(User._init_from_db(**rows[0]), key) if rows else None


class CloseSockets(Protocol):
    """Closes the open sockets of a session or a user (all but `keep_session`), everywhere."""

    async def __call__(
        self,
        *,
        user_id: int | None = None,
        session_key: str | None = None,
        keep_session: str | None = None,
    ) -> None: ...


async def _unwatched(**_: object) -> None:
    """Without a live layer (the command line) no socket is open."""


class Sessions:
    """Everything that ends sessions, each closing the ended sessions' open sockets itself,
    and checks of a signed-in person's password, each spending their guessing allowance: so no
    route can end a session and leave its sockets open, or check a password unlimited."""

    def __init__(
        self,
        logins: Allowance,
        password_checks: Allowance,
        close_sockets: CloseSockets = _unwatched,
    ) -> None:
        self.logins = logins
        self.password_checks = password_checks
        self.close_sockets = close_sockets

    async def check_login(self, client_address: str, username: str, password: str) -> User:
        """The account these credentials open. A try is taken from the address's and the
        account's allowance before the password is verified (so parallel guesses cannot all be
        tried) and given back when it was right (sign-ins are not what the limit counts)."""
        taken = await self.logins.take(f"addr:{client_address}", account_key(username))
        user = await authenticate(username, password)
        if user is None:
            raise Unauthenticated("wrong username or password")
        await self.logins.give_back(taken)
        return user

    async def end(self, session_key: str) -> None:
        """Sign one session out: its row and its sockets."""
        await AuthSession.filter(id=session_key).delete()
        await self.close_sockets(session_key=session_key)

    async def end_all(self, user_id: int, *, keep: str | None = None) -> None:
        """Sign a user out everywhere, or everywhere but the session `keep`."""
        query = AuthSession.filter(user_id=user_id)
        if keep is not None:
            query = query.exclude(id=keep)
        await query.delete()
        await self.close_sockets(user_id=user_id, keep_session=keep)

    async def change_password(
        self, user: User, current: str, new: str, *, session_key: str
    ) -> None:
        """Change the password and sign out every other session of this user. Wrong current
        passwords count like failed sign-ins, so a stolen session cannot guess the real one."""
        taken = await self.password_checks.take(account_key(user.username))
        if not await verify_password(user.password_hash, current):
            raise ValidationFailed("the current password is not right", field="current_password")
        await self.password_checks.give_back(taken)
        check_password_policy(new, username=user.username, display_name=user.display_name)
        user.password_hash = await hash_password(new)
        await user.save(update_fields=["password_hash"])
        await self.end_all(user.id, keep=session_key)

    async def reset_password(self, token: str, new: str) -> User:
        """Set a new password with a mailed reset token, and sign the account out everywhere:
        whoever knew the old password loses their sessions and sockets. The token is spent
        only once the new password passes the policy, so a weak try can be corrected. It also
        confirms the address, since the link arrived there."""
        user = await mailed_tokens.holder(token, TokenPurpose.PASSWORD_RESET)
        if user is None:
            raise NotFound("this link is not valid any more")
        try:
            check_password_policy(new, username=user.username, display_name=user.display_name)
        except ValidationFailed as error:
            raise ValidationFailed(error.detail, field="new_password") from None
        password_hash = await hash_password(new)
        async with in_transaction("default") as connection:
            spent = await mailed_tokens.spend(
                token, TokenPurpose.PASSWORD_RESET, connection=connection
            )
            if spent is None:  # used by a second click racing this one
                raise NotFound("this link is not valid any more")
            await mailed_tokens.spend_all(user, TokenPurpose.PASSWORD_RESET, connection=connection)
            await (
                User.filter(id=user.id)
                .using_db(connection)
                .update(password_hash=password_hash, email_confirmed=True)
            )
        await self.end_all(user.id)
        return user

    async def set_active(self, actor: Actor, user_id: int, active: bool) -> User:
        """Admins (de)activate accounts; deactivation signs the account out everywhere."""
        user, _ = await users.change_active(actor, user_id, active)
        if not user.is_active:
            await self.end_all(user.id)
        return user

    async def set_role(self, actor: Actor, user_id: int, role: Role) -> User:
        """Admins change roles. Pages and requests read the role afresh each time; an open
        socket keeps the role it joined with, so it is closed to reconnect with the new one."""
        user, changed = await users.change_role(actor, user_id, role)
        if changed:
            await self.close_sockets(user_id=user.id)
        return user


async def active_staff() -> list[User]:
    """Everyone a ticket can be assigned to, by name."""
    return await User.filter(role__in=[Role.STAFF, Role.ADMIN], is_active=True).order_by(
        "display_name", "id"
    )
