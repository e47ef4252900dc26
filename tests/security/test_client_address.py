"""Limits per client address count the real peer: a spoofed X-Forwarded-For cannot dodge them,
and behind a trusted proxy its X-Forwarded-For names the client."""

from __future__ import annotations

import pytest

from helpdesk import create_app
from tests.conftest import make_user, settings_for
from tests.services import sqlite_copy


async def failures(client, forwarded_for: list[str]) -> list[int]:
    statuses = []
    for index, address in enumerate(forwarded_for):
        response = await client.post(
            "/api/v1/auth/login",
            json={"username": f"user{index % 5}", "password": "wrong-wrong"},
            headers={"X-Forwarded-For": address},
        )
        statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize(("hops", "limited"), [(0, True), (1, False)])
async def test_forwarded_for_counts_only_behind_a_trusted_proxy(
    tmp_path, sqlite_template, hops, limited
):
    settings = settings_for(
        tmp_path, database_url=sqlite_copy(sqlite_template, tmp_path), trusted_proxy_hops=hops
    )
    app = create_app(settings)
    async with app.test_app():
        for index in range(5):
            await make_user(f"user{index}")
        client = app.test_client()
        # Eleven failures, each claiming another address, spread over five accounts.
        statuses = await failures(client, [f"10.0.0.{n}" for n in range(11)])
    assert (statuses[-1] == 429) is limited
    assert set(statuses[:10]) == {401}
