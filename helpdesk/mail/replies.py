"""The text a person wrote in a reply by mail: the plain part (or the HTML part as text), cut at
our "Reply above this line" marker, without the quoted mail and the signature.

Quotes and signatures are found by `mail-parser-reply`. Its patterns cost time that grows with
the cube of a line's length and with the square of a run of blank lines, and inscriptis takes
time with every element of the HTML, so each reads a bounded part of the mail: at most
`HTML_CHARS` of HTML, then at most `SCANNED_CHARS` and `SCANNED_LINES` of text, with each run of
blank lines made one and no line longer than `LONG_LINE` (no header or signature line is that
long). A reply whose own text fills the scanned part is over the message limit whatever follows.
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from inscriptis import get_text
from mailparser_reply import EmailMessage as ParsedReply

MARKER = re.compile(r"reply above this line", re.IGNORECASE)
LANGUAGES = ["en", "de", "fr", "es", "nl"]
SCANNED_CHARS = 10_000  # twice the longest message (`domain.fields.Body`)
# With blank runs made one, 3,500 lines hold at least 5,249 characters.
SCANNED_LINES = 3_500
LONG_LINE = 200
# A reply's own text sits at the top of its HTML, after the head's styles: 25,000 characters
# hold those and pages of markup, and inscriptis reads the densest in under a tenth of a second.
HTML_CHARS = 25_000
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
        content = get_text(content[:HTML_CHARS])
    return strip_quoted(content)


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
