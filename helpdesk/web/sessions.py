"""Cookie sessions through quart-auth, backed by revocable server-side session rows."""

from __future__ import annotations

from quart import Quart, request
from quart.sessions import SessionInterface, SessionMixin
from quart.wrappers import BaseRequestWebsocket, Response
from quart_auth import Action, AuthUser, current_user, login_user, logout_user

from ..domain.accounts import (
    SignedIn,
    authenticate,
    end_session,
    resolve_session,
    start_session,
)
from ..errors import Unauthenticated
from ..models import User
from .context import services
from .throttle import login_keys

_UNRESOLVED = object()


class NoClientSession(SessionInterface):
    """Quart's own cookie session stays unused (a sign-in is quart-auth's cookie naming a
    database row), so no request opens one: Quart's default built a signing serializer on
    every request for it. Writing to `quart.session` fails, so nothing can start using it
    by accident."""

    async def open_session(self, app: Quart, request: BaseRequestWebsocket) -> None:
        return None

    async def save_session(self, app: Quart, session: SessionMixin, response: Response) -> None:
        return None


class SessionUser(AuthUser):
    """quart-auth's user whose cookie names a session row; signed in only while that row lives."""

    def __init__(self, auth_id: str | None, action: Action = Action.PASS) -> None:
        super().__init__(auth_id, action)
        self._signed_in: object = _UNRESOLVED

    async def signed_in(self) -> SignedIn | None:
        if self._signed_in is _UNRESOLVED:
            self._signed_in = await resolve_session(self.auth_id) if self.auth_id else None
        return self._signed_in  # type: ignore[return-value]

    @property
    async def is_authenticated(self) -> bool:
        return await self.signed_in() is not None


async def current_session() -> SignedIn | None:
    return await current_user.signed_in()


async def current_account() -> User | None:
    session = await current_session()
    return session.user if session else None


async def require_session() -> SignedIn:
    session = await current_session()
    if session is None:
        raise Unauthenticated("sign in first")
    return session


async def require_account() -> User:
    return (await require_session()).user


async def sign_in(user: User) -> None:
    """Start a brand-new session (never reuse one from before sign-in) and set its cookie."""
    token = await start_session(user)
    login_user(SessionUser(token, Action.WRITE_PERMANENT))


async def sign_out() -> str | None:
    """End this session server-side and clear its cookie; returns the ended session's key."""
    session = await current_session()
    if session is not None:
        await end_session(session.session_key)
    logout_user()
    return session.session_key if session else None


async def log_in(username: str, password: str) -> User:
    """Check the throttle, then the password (failures count against address and account),
    then replace any session this browser had with a new one."""
    keys = login_keys(request.remote_addr or "unknown", username)
    throttle = services().login_throttle
    await throttle.check(keys)
    user = await authenticate(username, password)
    if user is None:
        await throttle.spend(keys)
        raise Unauthenticated("wrong username or password")
    previous = await current_session()
    if previous is not None:
        await end_session(previous.session_key)
    await sign_in(user)
    return user
