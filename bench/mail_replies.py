"""`python -m bench.mail_replies`: how long the reply gateway reads the worst mails we can make.

Each mail is at most the gateway's 1 MiB. Reading is what the gateway's reader threads do (the
MIME parse, then the extraction: the HTML as text, the quote parser); the From header is what it
reads on the event loop. Prints the fastest of three runs of each, in seconds, and the answer.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from helpdesk.errors import HelpdeskError
from helpdesk.mail.gateway import MAX_HEADER_CHARS, MAX_MAIL_BYTES, Refused, _parse, _text

HEAD = b"From: rita@campus.example\r\nTo: reply@localhost\r\nSubject: Re: x\r\n"
ROOM = MAX_MAIL_BYTES - 1024


def plain(line: bytes, first: bytes = b"hi\r\n") -> bytes:
    return HEAD + b"\r\n" + first + line * ((ROOM - len(first)) // len(line))


def html(element: bytes) -> bytes:
    body = b"<html><body>" + element * (ROOM // len(element))
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + body


def nested_multipart(depth: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n)
        for n in range(depth)
    )
    return HEAD + opening + b"Content-Type: text/plain\r\n\r\nhi\r\n"


def many_parts() -> bytes:
    part = b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    parts = part * (ROOM // len(part))
    return HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"


MAILS: dict[str, bytes] = {
    "blank lines": plain(b"\r\n"),
    "lines of spaces": plain(b" \t \r\n"),
    "one-letter lines": plain(b"a\r\n"),
    "blank lines between letters": plain(b"a\r\n\r\n"),
    "lines of 199 spaces": plain(b"a" + b" " * 199 + b"a\r\n"),
    "200-character words": plain(b"w" * 200 + b"\r\n"),
    "long lines": plain(b"word " * 190 + b"\r\n"),
    "quote lines, then text": plain(b"> a\r\n", first=b"hi\r\n") + b"x\r\n",
    "quote headers": plain(b"On Tue, Rita wrote:\r\n"),
    "signatures": plain(b"Best regards,\r\n"),
    "separators": plain(b"-----Original Message-----\r\n"),
    "markers half written": plain(b"reply above this lin\r\n"),
    "html paragraphs": html(b"<p>a"),
    "html list items": html(b"<li>a"),
    "html line breaks": html(b"<br>"),
    "html table rows": html(b"<tr><td>x</td></tr>"),
    "html table cells": html(b"<td>x"),
    "headers": HEAD + b"X-A: b\r\n" * (ROOM // 8) + b"\r\nhi\r\n",
    "nested multiparts": nested_multipart(2_000),
    "many parts": many_parts(),
}


def parse(raw: bytes) -> Callable[[], object]:
    return lambda: _parse(raw)


def extract(raw: bytes) -> Callable[[], object]:
    message = _parse(raw)
    return lambda: _text(message)


def answer(raw: bytes) -> str:
    """ "posted", or the refusal the gateway would give."""
    try:
        _text(_parse(raw))
    except Refused as refusal:
        return refusal.reply
    except HelpdeskError as error:
        return error.detail
    return "posted"


def from_header() -> Callable[[], object]:
    crowd = ", ".join(f"p{n}@x.example" for n in range(MAX_HEADER_CHARS // 14))
    message = _parse(f"From: {crowd[:MAX_HEADER_CHARS]}\r\n\r\nhi\r\n".encode())
    return lambda: message["From"].addresses


def fastest(work: Callable[[], object]) -> float:
    """The fastest of three runs: the others' slowness is the machine's, not the input's."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        with contextlib.suppress(Refused, HelpdeskError):
            work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(f"{'mail (at most 1 MiB)':30} {'parse':>7} {'extract':>7}  answer")
    for name, raw in MAILS.items():
        assert len(raw) <= MAX_MAIL_BYTES, name
        try:
            extracted = f"{fastest(extract(raw)):7.3f}"
        except Refused:
            extracted = f"{'-':>7}"
        print(f"{name:30} {fastest(parse(raw)):7.3f} {extracted}  {answer(raw)[:60]}", flush=True)
    print(f"{'From header, on the loop':30} {fastest(from_header()):7.3f}")


if __name__ == "__main__":
    main()
