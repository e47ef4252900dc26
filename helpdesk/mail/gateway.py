"""The inbound mail gateway: an SMTP server (aiosmtpd) that the campus MTA hands replies to.

The reply address's signed token names the ticket and the person; the mail's text and files go
through the same domain functions as the web (authorization, the chat and upload allowances,
the event log and the live broadcast). Every refusal is an SMTP reply with a reason, so the MTA
bounces it to the sender in plain words; a fault of ours, or a limit that passes with time, is
a 451, so the MTA tries again later.

Who may write: the From header must be the token's user's address (case-insensitive). The
envelope sender (MAIL FROM) may differ, since mail sent "as" a campus address from another
provider, or through a forwarder, carries that provider's address there; but it must not be
empty, because the null sender marks bounces and automatic replies (RFC 5321, RFC 3834), which
are never posted, and neither is a mail whose headers say it is one (`automatic`).

Files (see `replies.reply_files`: attachments and pasted photos) become the message's
attachments, each through `Uploads.store` as an upload on the web is (its kind judged by its
bytes, photos re-encoded without their metadata on the uploads' own threads, the size limits,
the hourly allowance), then posted with the text in one message, whose text may then be empty.
A mail is posted whole or not at all: more files than one message takes or one too large
(552 5.3.4), or a file the helpdesk does not take (550 5.6.1), refuses the whole mail with a
reason naming the file; the upload allowance used up is a 451 like the chat's. What was stored
for a mail that is not posted is removed at once. An accepted mail cannot carry words back to
its sender, so posting part of it would drop files silently, and a note written into their
message would put words in their mouth; a refusal comes back to them as a bounce that holds
their mail, text included, to send again without the file. The same mail delivered again
attaches nothing twice: its Message-ID was posted already, or (delivered twice at once) the
second copy's uploads are removed.

A mail may be `MAX_MAIL_BYTES` besides its files, and the files of one message on top, as
mail encodes them (base64). The MIME parser's time goes by the line, so past its first
`MAX_MAIL_BYTES` a mail may hold one line for each `ENCODED_LINE_BYTES` (attachments come in
lines of 76 characters): the worst mail of the largest size is read in about a second.

Reading a mail (the MIME parse, the HTML as text, the quote parser) is work for the CPU, so it
runs on a small pool of threads of the gateway's own, not on the event loop that serves every
request and socket, and within `READ_SECONDS`. The parsers hold the GIL while they match, so
the loop keeps its turns only because every input they see is bounded (see `replies`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import socket
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy, default
from functools import partial
from typing import Any, TypeVar

from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import TypeAdapter, ValidationError

from ..allowances import Allowances
from ..config import Settings
from ..domain.attachments import UploadLimits, Uploads
from ..domain.events import EventLog
from ..domain.fields import Body
from ..domain.message_writer import MessageWriter
from ..domain.messages import post_message
from ..errors import (
    HelpdeskError,
    RateLimited,
    ServiceUnavailable,
    TooLarge,
    UnsupportedType,
    ValidationFailed,
)
from ..models import Attachment, Message, Ticket, User
from ..uploads.prepare import split_name
from .replies import MailFile, UnreadableMail, reply_files, reply_text
from .tokens import ReplyTarget, parse_reply_address

log = logging.getLogger(__name__)

MAX_MAIL_BYTES = 1024 * 1024  # a reply with its quotes; its files come on top
# Base64 lines of 76 characters hold 57 bytes; a fifth of that leaves room for other encoders.
ENCODED_LINE_BYTES = 50
REOPEN_NOTE = "Reopened by a reply by mail"
DEFAULT_BIND = "127.0.0.1:8025"
_BODY: TypeAdapter[str] = TypeAdapter(Body)
# Bounded inputs read in well under a second; past this the pool is busy, so the MTA retries.
READ_SECONDS = 5.0
# Two readers: parallel hostile mails wait for them instead of taking every thread.
READERS = 2
# No honest From, Message-ID or Content-Type header is this long, and the address parser of the
# standard library takes time that grows faster than its input.
MAX_HEADER_CHARS = 2_000
# A reply and a few attachments; the standard library's parser takes a quarter of a millisecond
# a part (parsing its headers) and recurses once a level of nesting.
MAX_PARTS = 200
AUTOMATIC_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})
_T = TypeVar("_T")
_R = TypeVar("_R")


class Refused(Exception):
    """A mail the gateway will not post; `reply` is the SMTP reply that says why."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


class _BoundedHeaders(HeaderRegistry):
    """The standard headers, but none parsed past `MAX_HEADER_CHARS`."""

    def __call__(self, name: str, value: str) -> BaseHeader:
        if len(value) > MAX_HEADER_CHARS:
            raise Refused(f"550 5.6.0 the mail's {name} header is too long to read")
        return super().__call__(name, value)


class _CountedParts:
    """Makes the parts of one mail for the parser, up to `MAX_PARTS` of them."""

    def __init__(self) -> None:
        self.made = 0

    def __call__(self, policy: EmailPolicy) -> EmailMessage:
        self.made += 1
        if self.made > MAX_PARTS:
            raise Refused(f"550 5.6.0 the mail has more than {MAX_PARTS} parts")
        return EmailMessage(policy=policy)


_POLICY = default.clone(header_factory=_BoundedHeaders())


@dataclass(frozen=True)
class GatewayServices:
    """What posting a reply needs: the app's own services, never a second set."""

    settings: Settings
    event_log: EventLog
    message_writer: MessageWriter
    allowances: Allowances
    uploads: Uploads


@dataclass(frozen=True)
class Contents:
    """What a reply by mail holds: the text (checked, "" only beside files) and the files."""

    text: str
    files: list[MailFile]


def mail_bytes(limits: UploadLimits) -> int:
    """The largest mail taken: a reply, and the files of one message as base64 with its lines."""
    return MAX_MAIL_BYTES + math.ceil(limits.message_bytes / 57) * 78


def max_lines(size: int) -> int:
    """The most lines a mail of `size` bytes may have (see the module's docstring)."""
    return min(size, MAX_MAIL_BYTES) + max(0, size - MAX_MAIL_BYTES) // ENCODED_LINE_BYTES


def parse_bind(bind: str) -> tuple[str, int]:
    """`HOST:PORT` (an IPv6 host in brackets) as a host and a port number."""
    host, _, port = bind.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{bind!r} is not HOST:PORT (for example 127.0.0.1:8025)")
    return host, int(port)


def smtp_reply(error: HelpdeskError) -> str:
    """The SMTP reply for a refusal of the domain: busy means later, anything else never."""
    if isinstance(error, RateLimited):
        return f"451 4.7.1 {error.detail}; try again later"
    if isinstance(error, ServiceUnavailable):
        return f"451 4.3.0 {error.detail}; try again later"
    if isinstance(error, ValidationFailed):
        return f"550 5.6.0 {error.detail}"
    if isinstance(error, UnsupportedType):
        return f"550 5.6.1 {error.detail}"
    if isinstance(error, TooLarge):
        return f"552 5.3.4 {error.detail}"
    return f"550 5.7.1 {error.detail}"


class ReplyHandler:
    """aiosmtpd's handler: checks the address at RCPT, posts the reply at DATA."""

    def __init__(self, services: GatewayServices) -> None:
        self.services = services
        self.delivering: set[asyncio.Task[Any]] = set()
        self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="mail-reader")

    def target(self, address: str) -> ReplyTarget | None:
        settings = self.services.settings
        return parse_reply_address(settings.secret_key, settings.reply_domain, address)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if envelope.rcpt_tos:
            return "452 4.5.3 one reply address per mail; send to the others separately"
        if self.target(address) is None:
            return "550 5.1.1 not a reply address of this helpdesk, or its signature is wrong"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        task = asyncio.current_task()
        assert task is not None
        self.delivering.add(task)
        try:
            await self.deliver(envelope)
        except Refused as refusal:
            log.info("reply by mail refused: %s", refusal.reply)
            return _one_line(refusal.reply)
        except HelpdeskError as error:
            log.info("reply by mail refused: %s", error.detail)
            return _one_line(smtp_reply(error))
        except Exception:
            log.exception("reply by mail failed")
            return "451 4.3.0 the helpdesk could not take this mail now; try again later"
        finally:
            self.delivering.discard(task)
        return "250 OK"

    async def handle_exception(self, error: Exception) -> str:
        """A fault in a session outside the hooks: a reason, never a traceback."""
        log.exception("mail gateway session failed", exc_info=error)
        return "451 4.3.0 the helpdesk could not take this mail now; try again later"

    def close(self) -> None:
        """Let the readers go; a mail still being read is answered by its time limit."""
        self._readers.shutdown(wait=False, cancel_futures=True)

    async def deliver(self, envelope: Envelope) -> None:
        """Post the mail's reply text and files as its token's user's message on its token's
        ticket; a reporter's reply reopens their closed ticket."""
        target = self.target(envelope.rcpt_tos[0])
        assert target is not None  # checked at RCPT
        raw = envelope.original_content or b""
        message = await self._read(_parse, raw)
        user = await _sender(message, envelope.mail_from or "", target)
        contents = await self._read(partial(_contents, size=len(raw)), message)
        client_id = _client_id(target.ticket_id, message, raw)
        if await Message.exists(author_id=user.id, client_id=client_id):
            return  # the MTA sent this mail again: it is posted already
        services = self.services
        stored = await self._store(user, target.ticket_id, contents.files)
        try:
            posted = await post_message(
                services.message_writer,
                services.allowances,
                user,
                target.ticket_id,
                contents.text,
                client_id=client_id,
                reopen_note=REOPEN_NOTE,
                attachment_ids=[attachment.id for attachment in stored],
                upload_limits=services.uploads.limits,
            )
        except BaseException:
            await self._take_back(user, stored)
            raise
        if posted.duplicate:  # the same mail, delivered at once on another connection, came first
            await self._take_back(user, stored)

    async def _store(self, user: User, ticket_id: int, files: list[MailFile]) -> list[Attachment]:
        """The mail's files stored as the user's uploads to the ticket, all of them or none."""
        if not files:
            return []
        uploads = self.services.uploads
        if len(files) > uploads.limits.per_message:
            raise TooLarge(
                f"the mail has {len(files)} files and one reply takes at most "
                f"{uploads.limits.per_message}; send the others in another reply"
            )
        ticket = await _upload_target(uploads, user, ticket_id)
        stored: list[Attachment] = []
        try:
            for number, file in enumerate(files, 1):
                try:
                    attachment = await uploads.store(
                        user, ticket, file.data, file.filename, file.content_type
                    )
                except UnsupportedType as error:
                    raise UnsupportedType(f"{_name(file, number)}: {error.detail}") from None
                except TooLarge as error:
                    if file.filename and error.detail.startswith(file.filename):
                        raise  # it names the file already
                    raise TooLarge(f"{_name(file, number)}: {error.detail}") from None
                stored.append(attachment)
        except BaseException:
            await self._take_back(user, stored)
            raise
        return stored

    async def _take_back(self, user: User, stored: Sequence[Attachment]) -> None:
        """Remove what a mail stored and did not post, now rather than by the daily sweep."""
        uploads = self.services.uploads
        for attachment in stored:
            try:
                await uploads.remove(user, attachment.id)
            except HelpdeskError:
                continue  # posted after all: its message's batch had begun when we were stopped
            except Exception as error:  # the sweep removes it within a day
                log.warning(
                    "could not remove upload %s of a refused mail: %s", attachment.id, error
                )

    async def _read(self, work: Callable[[_T], _R], argument: _T) -> _R:
        """`work(argument)` on the readers, off the event loop, within `READ_SECONDS`."""
        loop = asyncio.get_running_loop()
        reading = loop.run_in_executor(self._readers, work, argument)
        try:
            return await asyncio.wait_for(reading, READ_SECONDS)
        except TimeoutError:
            raise Refused(
                "451 4.3.0 the helpdesk could not read this mail in time; try again later"
            ) from None


def _parse(raw: bytes) -> EmailMessage:
    if raw.count(b"\n") > max_lines(len(raw)):
        raise Refused("550 5.6.0 the mail has more lines than one of its size can have")
    policy = _POLICY.clone(message_factory=_CountedParts())
    message = BytesParser(policy=policy).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def automatic(message: EmailMessage) -> bool:
    """Whether the mail says a program sent it: RFC 3834's Auto-Submitted (anything but "no"),
    or the older marks that out-of-office responders still use instead."""
    submitted = str(message.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        submitted != "no"
        or precedence in AUTOMATIC_PRECEDENCE
        or "X-Autoreply" in message
        or "X-Autorespond" in message
    )


async def _sender(message: EmailMessage, mail_from: str, target: ReplyTarget) -> User:
    """The token's user, if the mail is theirs and not an automatic one."""
    if mail_from in ("", "<>"):
        raise Refused("550 5.7.1 bounces and automatic replies are not posted")
    if automatic(message):
        raise Refused("550 5.7.1 automatic replies are not posted")
    try:
        addresses = message["From"].addresses if message["From"] is not None else ()
    except (IndexError, ValueError, RecursionError):  # a From header too broken to read
        addresses = ()
    if len(addresses) != 1:
        raise Refused("550 5.7.1 the mail must have exactly one From address")
    sender = addresses[0].addr_spec.lower()
    user = await User.get_or_none(id=target.user_id)
    if user is None or (user.email or "").lower() != sender:
        raise Refused(f"550 5.7.1 {sender} may not reply with this address")
    if not user.is_active:
        raise Refused("550 5.7.1 this account is deactivated")
    if sender != mail_from.strip("<>").lower():
        log.info("reply from %s with envelope sender %s", sender, mail_from)
    return user


def _contents(message: EmailMessage, *, size: int) -> Contents:
    """The reply's text and files; the text may be missing only when there are files."""
    files = reply_files(message)
    if size - sum(file.encoded_size for file in files) > MAX_MAIL_BYTES:
        raise Refused(f"552 5.3.4 without its files the mail is over {MAX_MAIL_BYTES >> 20} MiB")
    return Contents(_text(message, required=not files), files)


def _text(message: EmailMessage, *, required: bool = True) -> str:
    """The reply's text, checked like a message typed on the web."""
    try:
        text = reply_text(message)
    except UnreadableMail as error:
        raise Refused(f"550 5.6.0 {error}") from None
    if not text:
        if required:
            raise Refused("550 5.6.0 no reply text found")
        return ""
    try:
        return _BODY.validate_python(text)
    except ValidationError as error:
        reason = error.errors()[0]["msg"]
        raise ValidationFailed(f"the reply: {reason[:1].lower()}{reason[1:]}") from None


def _client_id(ticket_id: int, message: EmailMessage, raw: bytes) -> str:
    """One per mail and ticket, so an MTA that delivers a mail twice posts it once; a mail
    without a Message-ID is known by its bytes."""
    message_id = str(message.get("Message-ID", "")).strip()
    origin = message_id.encode() if message_id else hashlib.sha256(raw).digest()
    digest = hashlib.sha256(f"{ticket_id}:".encode() + origin).hexdigest()
    return f"mail-{digest[:40]}"


async def _upload_target(uploads: Uploads, user: User, ticket_id: int) -> Ticket:
    """The ticket the files go to, checked as an upload on the web is; a reporter's reply to
    their closed ticket reopens it, files and all."""
    ticket = await uploads.target(user, ticket_id, reopening=True)
    assert ticket is not None  # given a ticket's id, it is that ticket
    return ticket


def _name(file: MailFile, number: int) -> str:
    """How a refusal names a file: its name as the helpdesk would show it, else its place."""
    stem, extension = split_name(file.filename)
    if stem or extension:
        return f"{stem}.{extension}" if extension else stem
    return f"file {number} ({file.content_type})"


def _one_line(reply: str) -> str:
    """An SMTP reply is one line of printable ASCII: user-supplied parts are flattened to it."""
    printable = "".join(character if character.isprintable() else " " for character in reply)
    flat = " ".join(printable.split())
    return flat.encode("ascii", "replace").decode()[:500]


class MailGateway:
    """The SMTP server on the app's event loop (aiosmtpd's own controllers run another loop
    in a thread, where the app's database and broker connections cannot go)."""

    def __init__(self, services: GatewayServices) -> None:
        self.handler = ReplyHandler(services)
        self.hostname = services.settings.reply_domain
        self.mail_bytes = mail_bytes(services.uploads.limits)
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._server: asyncio.Server | None = None

    def _session(self) -> SMTP:
        session = SMTP(
            self.handler,
            hostname=self.hostname,
            ident="Campus Helpdesk reply gateway",
            data_size_limit=self.mail_bytes,
            enable_SMTPUTF8=True,
            timeout=60,
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(session)
        return session

    async def start(self, bind: str | None = None, *, sock: socket.socket | None = None) -> None:
        """Listen on `bind` (HOST:PORT), or on `sock` that the caller bound (several worker
        processes share one listening socket, as they do Hypercorn's)."""
        loop = asyncio.get_running_loop()
        if sock is not None:
            self._server = await loop.create_server(self._session, sock=sock)
        else:
            host, port = parse_bind(bind or DEFAULT_BIND)
            self._server = await loop.create_server(self._session, host, port)
        log.info("mail gateway listening on %s", self.address)

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Take no new mail, let the deliveries under way finish, then hang up."""
        if self._server is None:
            return
        self._server.close()
        if self.handler.delivering:
            await asyncio.wait(set(self.handler.delivering), timeout=grace_seconds)
        self.handler.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        self._server = None


def bind_socket(bind: str) -> socket.socket:
    """A listening socket for `bind`, made before the worker processes that share it."""
    host, port = parse_bind(bind)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(100)
    sock.setblocking(False)
    return sock
