"""The text a person wrote in a reply by mail: the plain part (or the HTML part as text), cut at
our "Reply above this line" marker, without the quoted mail and the signature.

Quotes and signatures are found by `mail-parser-reply`. Its patterns cost time that grows with
the cube of a line's length, so it reads at most `SCANNED_CHARS` and never a line longer than
`LONG_LINE`: no header or signature line is that long, and a reply whose own text fills the
scanned part is over the message limit whatever follows.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from inscriptis import get_text
from mailparser_reply import EmailMessage as ParsedReply

MARKER = re.compile(r"reply above this line", re.IGNORECASE)
LANGUAGES = ["en", "de", "fr", "es", "nl"]
SCANNED_CHARS = 10_000  # twice the longest message (`domain.fields.Body`)
LONG_LINE = 200
# Private-use characters stand in for long lines while the parser reads: none are in its patterns.
_STAND_IN = "\ue000{}\ue001"
_TRAILING_QUOTE = re.compile(r"(?:\n>[^\n]*|\n[ \t]*)+\Z")


class UnreadableMail(ValueError):
    """The mail's text cannot be decoded (an unknown charset, or no text part at all)."""


def reply_text(message: EmailMessage) -> str:
    """What the sender wrote above the quoted mail; "" when they wrote nothing."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        raise UnreadableMail("the mail has no text part")
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        charset = part.get_content_charset()
        raise UnreadableMail(f"the mail's charset {charset!r} is unknown") from None
    if part.get_content_type() == "text/html":
        content = get_text(content)
    return strip_quoted(content)


def strip_quoted(text: str) -> str:
    """`text` without what follows the marker, the quoted part, the signature."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _above_marker(text)[:SCANNED_CHARS]
    lines = text.split("\n")
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
