"""Staff find the reporter a call is for: by part of a name or username, reporters only."""

from __future__ import annotations

from helpdesk.models import Role
from tests.conftest import json_of, make_user


async def usernames(client, query: str) -> list[str]:
    response = await client.get(f"/api/v1/reporters?{query}")
    assert response.status_code == 200
    return [user["username"] for user in (await json_of(response))["items"]]


async def test_staff_find_active_reporters_by_name_or_username(app, cast):
    await make_user("ritchie", display_name="Ritchie Blackmore")
    await make_user("margarita", display_name="Margarita Ruiz")
    await make_user("rita.gone", is_active=False)
    await make_user("rita.staff", Role.STAFF)

    assert await usernames(cast.staff.client, "q=RIT") == ["margarita", "rita", "ritchie"]
    assert await usernames(cast.staff.client, "q=ruiz") == ["margarita"]
    assert await usernames(cast.staff.client, "q=ritchie") == ["ritchie"]
    assert await usernames(cast.staff.client, "q=nobody") == []


async def test_the_username_typed_in_full_comes_first_even_past_the_limit(app, cast):
    for n in range(3):
        await make_user(f"aa.rita{n}", display_name=f"Aa Rita {n}")
    assert await usernames(cast.staff.client, "q=rita&limit=2") == ["rita", "aa.rita0"]


async def test_reporters_may_not_list_accounts(app, cast):
    response = await cast.reporter.client.get("/api/v1/reporters?q=oscar")
    assert response.status_code == 403
