"""Mail about an account, asked for by its owner (or a reset link sent by an admin): a password
reset link, an address confirmation link. Each is a mailed single-use token and an outbox row,
in one transaction (with its audit entry when an admin sent it)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from ..domain import audit, mailed_tokens
from ..domain.access import require_admin
from ..domain.accounts import RESET_LIFETIME, accounts_for_login, login_name
from ..domain.registration import CONFIRM_LIFETIME
from ..errors import Conflict, RateLimited, ValidationFailed
from ..models import AuditAction, TokenPurpose, User
from .compose import MailSettings, compose_address_confirmation, compose_password_reset
from .outbox import enqueue

if TYPE_CHECKING:
    from ..web.context import HelpdeskApp

log = logging.getLogger(__name__)


async def ask_for_password_reset(app: HelpdeskApp, client_address: str, login: str) -> None:
    """Take the asker's allowance (per address and per name asked for, the same whether or not
    the name is an account's), then look the account up and mail it after the answer has gone:
    so neither the answer nor its timing says whether the account exists."""
    await app.allowances.account_mail.take(f"addr:{client_address}", f"login:{login_name(login)}")
    app.add_background_task(mail_password_reset, app, login)


async def mail_password_reset(app: HelpdeskApp, login: str) -> int:
    """Mail a reset link to each active account `login` names that has an address; how many.
    An account asked for under several names still gets no more than its allowance."""
    settings = MailSettings.from_settings(app.settings)
    mailed = 0
    for user in await accounts_for_login(login):
        if not user.email:
            continue
        try:
            await app.allowances.account_mail.take(f"account:{user.id}")
        except RateLimited:
            log.info("no reset mail for user %s: their allowance is used up", user.id)
            continue
        await _send(app, settings, user, TokenPurpose.PASSWORD_RESET)
        mailed += 1
    return mailed


async def send_password_reset(app: HelpdeskApp, actor: audit.Actor, user: User) -> None:
    """An admin mails an account a reset link, within the account's allowance of account
    mail like the person's own request; the audit entry is written with the mail."""
    require_admin(actor.user)
    if user.oidc_subject is not None:
        raise Conflict("this account signs in with the university account, not a password")
    if not user.is_active:
        raise Conflict("this account is deactivated: reactivate it first")
    if not user.email:
        raise ValidationFailed("this account has no email address to send a link to")
    await app.allowances.account_mail.take(f"account:{user.id}")
    settings = MailSettings.from_settings(app.settings)
    await _send(app, settings, user, TokenPurpose.PASSWORD_RESET, by=actor)


async def send_address_confirmation(app: HelpdeskApp, user: User) -> None:
    """Mail a new account's confirmation link (at sign-up, and when asked again)."""
    await _send(app, MailSettings.from_settings(app.settings), user, TokenPurpose.CONFIRM_ADDRESS)


async def ask_for_address_confirmation(app: HelpdeskApp, user: User) -> None:
    """Another confirmation link, within the account's allowance of account mail."""
    await app.allowances.account_mail.take(f"account:{user.id}")
    await send_address_confirmation(app, user)


async def _send(
    app: HelpdeskApp,
    settings: MailSettings,
    user: User,
    purpose: TokenPurpose,
    *,
    by: audit.Actor | None = None,
) -> None:
    async with in_transaction("default") as connection:
        if purpose == TokenPurpose.PASSWORD_RESET:
            token = await mailed_tokens.issue(user, purpose, RESET_LIFETIME, connection=connection)
            message = compose_password_reset(settings, user, token)
        else:
            token = await mailed_tokens.issue(
                user, purpose, CONFIRM_LIFETIME, connection=connection
            )
            message = compose_address_confirmation(settings, user, token)
        await enqueue(connection, message, recipient=user, ticket_id=None, kind=purpose.value)
        if by is not None:
            await audit.record(connection, by, AuditAction.PASSWORD_RESET_SENT, target=user)
    app.mail_sender.wake()
