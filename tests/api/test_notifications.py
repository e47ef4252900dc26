"""A person's choice of notification mail over the API: read it, change it, refused by name."""

from __future__ import annotations

import pytest

from helpdesk.models import User
from tests.conftest import Cast


async def test_everyone_starts_with_immediate_mail(cast: Cast):
    response = await cast.reporter.client.get("/api/v1/me/notifications")
    assert response.status_code == 200
    assert await response.get_json() == {"email": "immediate"}


@pytest.mark.parametrize("choice", ["digest", "off", "immediate"])
async def test_a_choice_is_stored_for_that_person_only(cast: Cast, choice: str):
    response = await cast.reporter.client.put("/api/v1/me/notifications", json={"email": choice})
    assert response.status_code == 200
    assert await response.get_json() == {"email": choice}
    assert (await User.get(id=cast.reporter.id)).email_notifications == choice
    reread = await cast.reporter.client.get("/api/v1/me/notifications")
    assert await reread.get_json() == {"email": choice}
    assert (await User.get(id=cast.other.id)).email_notifications == "immediate"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "weekly"},
        {"email": "OFF"},
        {"email": None},
        {"email": 1},
        {},
        {"email": "off", "sms": "on"},
    ],
)
async def test_anything_else_is_refused_naming_the_field_and_changes_nothing(cast: Cast, body):
    await cast.staff.client.put("/api/v1/me/notifications", json={"email": "digest"})
    response = await cast.staff.client.put("/api/v1/me/notifications", json=body)
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["code"] == "validation_error"
    assert error["field"] == ("sms" if "sms" in body else "email")
    assert (await User.get(id=cast.staff.id)).email_notifications == "digest"


async def test_signed_out_callers_are_told_to_sign_in(cast: Cast):
    for method in ("GET", "PUT"):
        response = await cast.anonymous.client.open(
            "/api/v1/me/notifications", method=method, json={"email": "off"}
        )
        assert response.status_code == 401
    assert await User.filter(email_notifications="off").count() == 0


async def test_the_routes_are_described_in_openapi(cast: Cast):
    schema = await (await cast.anonymous.client.get("/openapi.json")).get_json()
    operations = schema["paths"]["/api/v1/me/notifications"]
    assert set(operations) == {"get", "put"}
    assert {"200", "400", "401"} <= set(operations["put"]["responses"])
    body = operations["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["email"] and body["additionalProperties"] is False
    choices = schema["components"]["schemas"]["EmailPreference"]["enum"]
    assert choices == ["immediate", "digest", "off"]
