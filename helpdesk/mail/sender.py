"""Sending the outbox, by SMTP (aiosmtplib) or, with no relay set, into .eml files.

Never twice: a row is committed as `sending` before the SMTP transaction starts, and marked
`sent` once the relay has answered 250 to the data. A failure before that answer is a clean
retry (the relay did not take the mail). If the process dies between the relay's 250 and the
mark, the row is still `sending` when a sender next looks: it becomes `uncertain`, shown to
admins and never sent again, since the relay may well have delivered it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib
from tortoise.expressions import F

from ..config import ConfigError, Settings
from ..consumers import Chore
from ..models import MailState, OutboxMail

log = logging.getLogger(__name__)
BATCH = 50
RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 3600.0
SMTP_TIMEOUT = 30.0
_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class Refused(Exception):
    """The relay did not take the mail; `permanent` for a 5xx answer."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


Transport = Callable[[OutboxMail], Awaitable[None]]


@dataclass(frozen=True)
class Relay:
    """Where HELPDESK_SMTP_URL points: smtp:// (plain), smtp+starttls://, smtps:// (TLS)."""

    hostname: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> Relay:
        parts = urlsplit(url)
        if parts.scheme not in _SCHEMES or not parts.hostname:
            raise ConfigError(
                "HELPDESK_SMTP_URL must look like smtp://host:port, "
                f"smtp+starttls://user:pass@host:587 or smtps://host:465, not {url!r}"
            )
        return cls(
            hostname=parts.hostname,
            port=parts.port or _SCHEMES[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=parts.scheme == "smtps",
            start_tls=parts.scheme == "smtp+starttls",
        )


def smtp_transport(relay: Relay, envelope_from: str) -> Transport:
    async def send(mail: OutboxMail) -> None:
        client = aiosmtplib.SMTP(
            hostname=relay.hostname,
            port=relay.port,
            username=relay.username,
            password=relay.password,
            use_tls=relay.use_tls,
            start_tls=relay.start_tls,
            timeout=SMTP_TIMEOUT,
        )
        try:
            await client.connect()
            await client.sendmail(envelope_from, [mail.to_address], mail.message.encode())
        except aiosmtplib.SMTPRecipientsRefused as error:
            first = error.recipients[0]
            raise Refused(f"{first.code} {first.message}", permanent=first.code >= 500) from error
        except aiosmtplib.SMTPResponseException as error:
            raise Refused(f"{error.code} {error.message}", permanent=error.code >= 500) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise Refused(f"{type(error).__name__}: {error}", permanent=False) from error
        finally:
            # The relay has the mail once it answered the data; how the goodbye goes is moot.
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()

    return send


def eml_transport(folder: Path) -> Transport:
    """With no relay: one .eml file per mail, named by date and Message-ID, to look at."""

    def save(mail: OutboxMail) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9.@-]+", "_", mail.message_id.strip("<>"))
        path = folder / f"{mail.created_at:%Y%m%d-%H%M%S}-{name}.eml"
        path.write_text(mail.message, encoding="utf-8", newline="")

    async def write(mail: OutboxMail) -> None:
        await asyncio.to_thread(save, mail)

    return write


def mail_folder(settings: Settings) -> Path:
    return settings.instance_path / "mail"


def transport_for(settings: Settings) -> Transport:
    if not settings.smtp_url:
        return eml_transport(mail_folder(settings))
    return smtp_transport(Relay.from_url(settings.smtp_url), parseaddr(settings.mail_from)[1])


def retry_delay(attempts: int, base: float = RETRY_BASE_SECONDS) -> timedelta:
    """Exponential backoff: base, twice that, four times ... at most an hour."""
    return timedelta(seconds=min(base * 2 ** (attempts - 1), RETRY_MAX_SECONDS))


class MailSender(Chore):
    """Sends what is due in the outbox; run by one process at a time, under its own lease."""

    def __init__(self, transport: Transport, *, retry_base_seconds: float = RETRY_BASE_SECONDS):
        self.transport = transport
        self.retry_base_seconds = retry_base_seconds

    async def tick(self, now: datetime) -> None:
        # This runner holds the lease and finishes each send within its round, so a row still
        # `sending` now was left by a process that stopped mid-send.
        stranded = await OutboxMail.filter(state=MailState.SENDING).update(
            state=MailState.UNCERTAIN,
            last_error="the sending process stopped before it knew whether the relay took it",
        )
        if stranded:
            log.warning("%d mail(s) may or may not have been sent: marked uncertain", stranded)
        due = (
            await OutboxMail.filter(state=MailState.PENDING, next_attempt_at__lte=now)
            .order_by("id")
            .limit(BATCH)
        )
        for mail in due:
            await self.send(mail, now)

    async def send(self, mail: OutboxMail, now: datetime) -> None:
        taken = await OutboxMail.filter(id=mail.id, state=MailState.PENDING).update(
            state=MailState.SENDING, attempts=F("attempts") + 1
        )
        if not taken:
            return
        attempts = mail.attempts + 1
        try:
            await self.transport(mail)
        except Refused as refused:
            log.warning("mail %s to %s refused: %s", mail.id, mail.to_address, refused)
            state = MailState.FAILED if refused.permanent else MailState.PENDING
            await OutboxMail.filter(id=mail.id, state=MailState.SENDING).update(
                state=state,
                last_error=str(refused)[:1000],
                next_attempt_at=now + retry_delay(attempts, self.retry_base_seconds),
            )
            return
        await OutboxMail.filter(id=mail.id, state=MailState.SENDING).update(
            state=MailState.SENT, sent_at=now, last_error=None
        )
