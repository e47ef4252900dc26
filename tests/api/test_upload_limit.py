"""Each person may upload only so many files an hour, so no script fills the storage."""

from __future__ import annotations

import io

import pytest
from quart.datastructures import FileStorage

from helpdesk.models import Attachment
from tests.conftest import json_of, settings_for
from tests.uploads import samples

LIMIT = 2


@pytest.fixture
def app_settings(tmp_path, database_url):
    return settings_for(tmp_path, database_url=database_url, uploads_per_hour=LIMIT)


async def upload(client):
    return await client.post(
        "/api/v1/attachments",
        files={"file": FileStorage(io.BytesIO(samples.png_with_text()), filename="a.png")},
    )


async def test_uploads_past_the_hourly_allowance_get_429_and_when_to_retry(app, cast):
    for _ in range(LIMIT):
        assert (await upload(cast.reporter.client)).status_code == 201
    refused = await upload(cast.reporter.client)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert (await json_of(refused))["error"]["code"] == "rate_limited"
    assert await Attachment.all().count() == LIMIT
    assert (await upload(cast.other.client)).status_code == 201  # each person their own
