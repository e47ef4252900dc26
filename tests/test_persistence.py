"""Data outlives the process: an SQLite file read back by a new app."""

from __future__ import annotations

from helpdesk import create_app
from tests.conftest import TICKET, make_user, settings_for, signed_in_client


async def test_tickets_and_messages_survive_a_restart(tmp_path):
    settings = settings_for(tmp_path, database_url=f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}")
    first = create_app(settings)
    async with first.test_app():
        user = await make_user("maya")
        client = await signed_in_client(first, user)
        created = await (await client.post("/api/v1/tickets", json=TICKET)).get_json()
        await client.post(f"/api/v1/tickets/{created['id']}/messages", json={"body": "hello"})

    second = create_app(settings)
    async with second.test_app():
        client = await signed_in_client(second, user)
        again = await (await client.get(f"/api/v1/tickets/{created['id']}")).get_json()
        assert again.pop("last_message_at") is not None
        created.pop("last_message_at")
        assert again == created
        messages = await (await client.get(f"/api/v1/tickets/{created['id']}/messages")).get_json()
        assert [m["body"] for m in messages["items"]] == ["hello"]
