"""Cookie sessions through quart-auth, backed by revocable server-side session rows."""

from __future__ import annotations

from quart import Quart, request
from quart.sessions import SessionInterface, SessionMixin
from quart.wrappers import BaseRequestWebsocket, Response
from quart_auth import Action, AuthUser, current_user, login_user, logout_user

from ..domain.accounts import SignedIn, resolve_session, start_session
from ..domain.registration import Registration, register
from ..errors import Forbidden, Unauthenticated
from ..models import User
from .context import services

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


async def sign_out() -> None:
    """End this session server-side (its sockets too) and clear its cookie."""
    session = await current_session()
    if session is not None:
        await services().sessions.end(session.session_key)
    logout_user()


def client_address() -> str:
    """Who a stranger's allowance counts against: the peer (as fixed by a trusted proxy), never
    a client-supplied header."""
    return request.remote_addr or "unknown"


def require_password_login() -> None:
    """Local passwords can be turned off (HELPDESK_PASSWORD_LOGIN=false), leaving the
    university account as the one way in; the API and the pages both ask here."""
    if not services().settings.password_login:
        raise Forbidden("password sign-in is turned off here: sign in with your university account")


async def log_in(username: str, password: str) -> User:
    """Check the credentials within the sign-in allowance, then replace any session this
    browser had with a new one."""
    require_password_login()
    user = await services().sessions.check_login(client_address(), username, password)
    await sign_in_afresh(user)
    return user


async def sign_in_afresh(user: User) -> None:
    """End the session this browser had, if any, and start a new one for `user`: whatever way
    a person signs in, nobody is left signed in under the old cookie."""
    previous = await current_session()
    if previous is not None:
        await services().sessions.end(previous.session_key)
    await sign_in(user)


async def sign_up(
    username: str, password: str, *, display_name: str | None, email: str | None
) -> User:
    """Make a reporter account within the address's allowance of new accounts, as the
    registration policy allows (unconfirmed with campus domains), and sign it in."""
    require_password_login()
    await services().allowances.registration.take(f"addr:{client_address()}")
    registration = Registration.from_settings(services().settings)
    user = await register(registration, username, password, display_name=display_name, email=email)
    await sign_in(user)
    return user
