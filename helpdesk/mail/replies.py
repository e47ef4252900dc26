"""What a person put in a reply by mail: the text they wrote, from the plain part (or the HTML
part as text), cut at our "Reply above this line" marker, without the quoted mail and the
signature; and the files they attached.

Quotes and signatures are found by `mail-parser-reply`. Its patterns cost time that grows with
the cube of a line's length and with the square of a run of blank lines, and inscriptis takes
time with every element of the HTML, so each reads a bounded part of the mail: at most
`HTML_CHARS` of HTML, then at most `SCANNED_CHARS` and `SCANNED_LINES` of text, with each run of
blank lines made one and no line longer than `LONG_LINE` (no header or signature line is that
long). A reply whose own text fills the scanned part is over the message limit whatever follows.
A plain part is searched for the marker in its first `TEXT_CHARS` only, since regular
expressions hold the GIL while they search.

Files are the parts a mail client attaches: every part marked as an attachment, and every
inline part that is not text (a photo pasted into the mail). Signatures (S/MIME, PGP) and
contact cards are the mail program's, not the person's, and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

from inscriptis import get_text
from mailparser_reply import EmailMessage as ParsedReply

from ..errors import UnsupportedType

MARKER = re.compile(r"reply above this line", re.IGNORECASE)
LANGUAGES = ["en", "de", "fr", "es", "nl"]
SCANNED_CHARS = 10_000  # twice the longest message (`domain.fields.Body`)
# With blank runs made one, 3,500 lines hold at least 5,249 characters.
SCANNED_LINES = 3_500
LONG_LINE = 200
# A reply's own text sits at the top of its HTML, after the head's styles: 25,000 characters
# hold those and pages of markup, and inscriptis reads the densest in under a tenth of a second.
HTML_CHARS = 25_000
# A reply's own text, then the marker, come first; what lies further is quotes or over the limit.
TEXT_CHARS = 10 * SCANNED_CHARS
# Parts a mail program adds on its own: signatures of the mail, and the sender's contact card.
NOT_FILES = frozenset(
    {
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-signature",
        "text/vcard",
        "text/x-vcard",
    }
)
# Private-use characters stand in for long lines while the parser reads: none are in its patterns.
_STAND_IN = "\ue000{}\ue001"
_TRAILING_QUOTE = re.compile(r"(?:\n>[^\n]*|\n[ \t]*)+\Z")


class UnreadableMail(ValueError):
    """The mail's text cannot be decoded (an unknown charset)."""


@dataclass(frozen=True)
class MailFile:
    """One file of a mail, decoded; `encoded_size` is what it took in the mail."""

    filename: str  # as the sender's mail program named it; "" when it gave none
    content_type: str  # as declared, which decides nothing
    data: bytes
    encoded_size: int


def reply_text(message: EmailMessage) -> str:
    """What the sender wrote above the quoted mail; "" when they wrote nothing (or the mail
    has no text part, as a photo sent from a phone's gallery may not)."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        charset = part.get_content_charset()
        raise UnreadableMail(f"the mail's charset {charset!r} is unknown") from None
    if part.get_content_type() == "text/html":
        content = get_text(content[:HTML_CHARS])
    return strip_quoted(content[:TEXT_CHARS])


def reply_files(message: EmailMessage) -> list[MailFile]:
    """The files attached to the mail, in the order the mail has them."""
    files = []
    for part in _leaves(message):
        content_type = part.get_content_type()
        if content_type in NOT_FILES:
            continue
        maintype = part.get_content_maintype()
        if maintype == "multipart":
            continue  # a container without its boundary: broken, and holding nothing
        if maintype == "text" and not part.is_attachment():
            continue  # the text, or a piece of it between pasted photos
        payload = part.get_payload()
        if not isinstance(payload, str):  # message/rfc822: a mail forwarded as an attachment
            raise UnsupportedType(
                "a mail attached to this one is not taken; attach its photos or PDFs instead",
                field="file",
            )
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)  # what a part that is not multipart decodes to
        files.append(MailFile(part.get_filename() or "", content_type, data, len(payload)))
    return files


def _leaves(message: EmailMessage) -> Iterator[EmailMessage]:
    """The parts that are not multipart containers, depth first; an attached mail is one part
    (its own text and files are not the reply's)."""
    waiting = [message]
    while waiting:
        part = waiting.pop()
        if part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), list):
            waiting.extend(reversed(part.get_payload()))
        else:
            yield part


def strip_quoted(text: str) -> str:
    """`text` without what follows the marker, the quoted part, the signature."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = _scanned_lines(_above_marker(text)[:SCANNED_CHARS])
    long_lines = {
        _STAND_IN.format(index): line for index, line in enumerate(lines) if len(line) > LONG_LINE
    }
    short = "\n".join(
        _STAND_IN.format(index) if len(line) > LONG_LINE else line
        for index, line in enumerate(lines)
    )
    parsed = ParsedReply(text=short, languages=list(LANGUAGES), keep_hyphen_lists=True).read()
    body = parsed.replies[0].body if parsed.replies else ""
    for stand_in, line in long_lines.items():
        body = body.replace(stand_in, line.strip())
    # A quote at the bottom with no "On ... wrote:" above it.
    return _TRAILING_QUOTE.sub("", "\n" + body).strip()


def _above_marker(text: str) -> str:
    """Up to the line holding the marker our mails carry (quoted or not)."""
    found = MARKER.search(text)
    if found is None:
        return text
    return text[: text.rfind("\n", 0, found.start()) + 1]


def _scanned_lines(text: str) -> list[str]:
    """The first `SCANNED_LINES` lines of `text`, stripped as the parser strips them, with
    each run of blank lines made one."""
    lines: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if line or not lines or lines[-1]:
            lines.append(line)
        if len(lines) == SCANNED_LINES:
            break
    return lines
