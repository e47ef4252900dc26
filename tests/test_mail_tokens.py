"""Reply and unsubscribe tokens: they round-trip, survive case changes, and refuse forgeries."""

from __future__ import annotations

import pytest

from helpdesk.mail.tokens import (
    ReplyTarget,
    parse_reply_address,
    parse_unsubscribe_token,
    reply_address,
    unsubscribe_token,
)

SECRET = "a-secret-key-for-tests-0123456789"
DOMAIN = "reply.campus.example"


def test_a_reply_address_names_its_ticket_and_user():
    address = reply_address(SECRET, DOMAIN, 42, 7)
    assert address.startswith("reply+42-7-") and address.endswith("@reply.campus.example")
    assert parse_reply_address(SECRET, DOMAIN, address) == ReplyTarget(42, 7)
    assert parse_reply_address(SECRET, DOMAIN, f"<{address.upper()}>") == ReplyTarget(42, 7)


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.replace("reply+42-7-", "reply+43-7-"),  # another ticket
        lambda a: a.replace("reply+42-7-", "reply+42-8-"),  # another user
        lambda a: a.replace("@reply.campus.example", "@evil.example"),
        lambda a: (
            a[: -len(DOMAIN) - 2]
            + ("a" if a[-len(DOMAIN) - 2] != "a" else "b")
            + a[-len(DOMAIN) - 1 :]
        ),
        lambda a: a.replace("reply+", "reply-"),
        lambda a: "helpdesk@" + DOMAIN,
        lambda a: "",
    ],
)
def test_a_forged_or_foreign_reply_address_names_nothing(change):
    assert parse_reply_address(SECRET, DOMAIN, change(reply_address(SECRET, DOMAIN, 42, 7))) is None


def test_another_secret_signs_other_addresses():
    address = reply_address("another-secret-key-entirely-98765", DOMAIN, 42, 7)
    assert parse_reply_address(SECRET, DOMAIN, address) is None


def test_an_unsubscribe_token_names_its_user_and_refuses_forgeries():
    token = unsubscribe_token(SECRET, 7)
    assert parse_unsubscribe_token(SECRET, token) == 7
    assert parse_unsubscribe_token(SECRET, token.upper()) == 7
    assert parse_unsubscribe_token(SECRET, token.replace("7-", "8-", 1)) is None
    assert parse_unsubscribe_token(SECRET, "7-" + "a" * 26) is None
    assert parse_unsubscribe_token(SECRET, "garbage") is None
