"""Password guessing: the sign-in limit counts the account sign-in resolves, takes each try
before the password is verified, and the same holds for the current password of a session."""

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest

from tests.conftest import PASSWORD, make_user

WRONG = "wrong-wrong-wrong"


def from_address(address: str) -> dict:
    return {"scope_base": {"client": (address, 40000)}}


async def login(client, username: str, password: str, address: str = "10.1.0.1") -> int:
    response = await client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        **from_address(address),
    )
    return response.status_code


async def test_no_spelling_of_a_locked_account_gets_fresh_tries(app):
    await make_user("maya")
    client = app.test_client()
    for attempt in range(10):
        assert await login(client, "maya", WRONG, f"10.1.1.{attempt}") == 401
    for index, variant in enumerate([" maya", "maya ", "\tmaya", "MAYA", " Maya\n"]):
        assert await login(client, variant, WRONG, f"10.1.2.{index}") == 429, variant
        assert await login(client, variant, PASSWORD, f"10.1.3.{index}") == 429, variant


async def test_parallel_wrong_passwords_are_refused_before_they_are_tried(app):
    await make_user("maya")
    client = app.test_client()
    statuses = await asyncio.gather(*(login(client, "maya", WRONG) for _ in range(30)))
    assert statuses.count(401) == 10
    assert statuses.count(429) == 20


async def test_parallel_guesses_over_many_accounts_count_against_the_address(app):
    for index in range(5):
        await make_user(f"user{index}")
    client = app.test_client()
    statuses = await asyncio.gather(
        *(login(client, f"user{n % 5}", WRONG, "10.1.4.1") for n in range(30))
    )
    assert statuses.count(401) == 10


async def test_a_refused_account_does_not_use_up_the_address(app):
    """Tries refused for a locked account were never verified: they cost the address nothing."""
    await make_user("maya")
    await make_user("noor")
    client = app.test_client()
    for attempt in range(10):
        assert await login(client, "maya", WRONG, f"10.1.5.{attempt}") == 401
    for _ in range(5):
        assert await login(client, "maya", WRONG, "10.1.6.1") == 429
    for _ in range(5):
        assert await login(client, "noor", WRONG, "10.1.6.1") == 401
    assert await login(client, "noor", PASSWORD, "10.1.6.1") == 200


async def change_password(client, current: str) -> int:
    response = await client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": "a-brand-new-passphrase"},
    )
    return response.status_code


async def test_the_current_password_cannot_be_guessed_without_limit(app):
    await make_user("maya")
    client = app.test_client()
    assert await login(client, "maya", PASSWORD) == 200
    for _ in range(10):
        assert await change_password(client, WRONG) == 400
    refused = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a-brand-new-passphrase"},
    )
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


async def test_parallel_guesses_of_the_current_password_are_refused_before_they_are_tried(app):
    await make_user("maya")
    client = app.test_client()
    assert await login(client, "maya", PASSWORD) == 200
    statuses = await asyncio.gather(*(change_password(client, WRONG) for _ in range(20)))
    assert statuses.count(400) == 10
    assert statuses.count(429) == 10


async def test_the_password_page_counts_against_the_same_limit(app):
    await make_user("maya")
    client = app.test_client()
    assert await login(client, "maya", PASSWORD) == 200
    for _ in range(10):
        assert await change_password(client, WRONG) == 400
    page = await client.post(
        "/account/password",
        form={"current_password": WRONG, "new_password": "a-brand-new-passphrase"},
    )
    assert page.status_code == 429
    assert "wait a moment" in await page.get_data(as_text=True)


async def test_a_right_current_password_does_not_use_up_the_limit(app):
    await make_user("maya")
    client = app.test_client()
    assert await login(client, "maya", PASSWORD) == 200
    passwords = [PASSWORD, *(f"radiator-{n}-leaks-again" for n in range(12))]
    for current, new in pairwise(passwords):
        response = await client.post(
            "/api/v1/me/password", json={"current_password": current, "new_password": new}
        )
        assert response.status_code == 204


@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/register"])
async def test_registrations_are_limited_per_address_on_the_page_and_the_api(app, path):
    client = app.test_client()
    limit = app.settings.registrations_per_hour
    statuses = []
    for index in range(limit + 1):
        fields = {"username": f"student{index}", "password": "heater-broken-214-dorm"}
        if path.startswith("/api"):
            response = await client.post(path, json=fields, **from_address("10.1.7.1"))
        else:
            response = await client.post(path, form=fields, **from_address("10.1.7.1"))
        statuses.append(response.status_code)
    assert statuses[-1] == 429
    assert 429 not in statuses[:limit]
    assert int(response.headers["Retry-After"]) >= 1
