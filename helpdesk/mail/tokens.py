"""Signed tokens that ride in mail: the reply address, and the one-click unsubscribe link.

A reply address is `reply+<ticket>-<user>-<signature>@<reply domain>`. Mail systems may change
the case of an address's local part, so the token is lower-case letters and digits only, and the
signature (an HMAC of the ticket and the user under the app's secret key, 130 bits in base32) is
compared case-insensitively. It names who may write where; the gateway still checks the sender
and applies the same rules as the web.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

SIGNATURE_CHARS = 26  # 130 bits of base32
_REPLY_LOCAL_PART = re.compile(r"reply\+(\d{1,18})-(\d{1,18})-([a-z2-7]{26})")
_UNSUBSCRIBE = re.compile(r"(\d{1,18})-([a-z2-7]{26})")


@dataclass(frozen=True)
class ReplyTarget:
    ticket_id: int
    user_id: int


def _signature(secret_key: str, purpose: str, *parts: int) -> str:
    message = ":".join([purpose, *map(str, parts)]).encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:SIGNATURE_CHARS]


def reply_address(secret_key: str, reply_domain: str, ticket_id: int, user_id: int) -> str:
    """The address whose mail becomes `user_id`'s message on ticket `ticket_id`."""
    signature = _signature(secret_key, "reply", ticket_id, user_id)
    return f"reply+{ticket_id}-{user_id}-{signature}@{reply_domain}"


def parse_reply_address(secret_key: str, reply_domain: str, address: str) -> ReplyTarget | None:
    """What a reply address names, or None when it is not one of ours or its signature is
    forged."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    if domain.lower() != reply_domain.lower():
        return None
    match = _REPLY_LOCAL_PART.fullmatch(local.lower())
    if match is None:
        return None
    ticket_id, user_id = int(match[1]), int(match[2])
    expected = _signature(secret_key, "reply", ticket_id, user_id)
    if not hmac.compare_digest(expected, match[3]):
        return None
    return ReplyTarget(ticket_id, user_id)


def unsubscribe_token(secret_key: str, user_id: int) -> str:
    """For the one-click unsubscribe link of `user_id`'s mail (RFC 8058)."""
    return f"{user_id}-{_signature(secret_key, 'unsubscribe', user_id)}"


def parse_unsubscribe_token(secret_key: str, token: str) -> int | None:
    """The user an unsubscribe token names, or None when it is forged."""
    match = _UNSUBSCRIBE.fullmatch(token.strip().lower())
    if match is None:
        return None
    user_id = int(match[1])
    if not hmac.compare_digest(_signature(secret_key, "unsubscribe", user_id), match[2]):
        return None
    return user_id
