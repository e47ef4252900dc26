"""Text that would show as something it is not: refused by the field rules, wherever they apply."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from helpdesk.models import Ticket, User
from helpdesk.schemas import RegisterIn, TicketIn
from tests.conftest import TICKET, create_ticket

PASSPHRASE = "seven-quiet-lanterns-drift"
UNSEEN = {
    "\u202a": "U+202A LEFT-TO-RIGHT EMBEDDING",
    "\u202e": "U+202E RIGHT-TO-LEFT OVERRIDE",
    "\u2066": "U+2066 LEFT-TO-RIGHT ISOLATE",
    "\u2069": "U+2069 POP DIRECTIONAL ISOLATE",
    "\u200e": "U+200E LEFT-TO-RIGHT MARK",
    "\u200f": "U+200F RIGHT-TO-LEFT MARK",
    "\u061c": "U+061C ARABIC LETTER MARK",
    "\u200b": "U+200B ZERO WIDTH SPACE",
    "\u200c": "U+200C ZERO WIDTH NON-JOINER",
    "\u200d": "U+200D ZERO WIDTH JOINER",
    "\u2060": "U+2060 WORD JOINER",
    "\ufeff": "U+FEFF ZERO WIDTH NO-BREAK SPACE",
    "\u00ad": "U+00AD SOFT HYPHEN",
    "\U000e0041": "U+E0041 TAG LATIN CAPITAL LETTER A",
    "\u2028": "U+2028 LINE SEPARATOR",
    "\u3164": "U+3164 HANGUL FILLER",
    "\t": "U+0009, a control character",
    "\x1b": "U+001B, a control character",
    "\x85": "U+0085, a control character",
}
REORDERING = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068"]


def refusal(data: dict, field: str) -> str:
    with pytest.raises(ValidationError) as refused:
        (RegisterIn if "username" in data else TicketIn).model_validate(data)
    [error] = refused.value.errors()
    assert error["loc"] == (field,)
    return error["msg"]


@pytest.mark.parametrize(("character", "named"), UNSEEN.items(), ids=lambda v: repr(v))
def test_a_display_name_with_an_unseen_character_is_refused_naming_it(character, named):
    message = refusal(
        {"username": "sam2", "password": PASSPHRASE, "display_name": f"Sam{character}Lee"},
        "display_name",
    )
    assert message == (
        f"Contains an invisible, control or text-direction character ({named}): remove it"
    )


@pytest.mark.parametrize("name", ["Zoë Müller", "שרה לוי", "محمد", "李雷", "Ana 🌻"])
def test_display_names_in_any_script_are_taken_as_typed(name):
    data = RegisterIn.model_validate(
        {"username": "ana", "password": PASSPHRASE, "display_name": name}
    )
    assert data.display_name == name


def test_a_username_with_an_unseen_character_is_refused():
    refusal({"username": "sam\u200b", "password": PASSPHRASE}, "username")


@pytest.mark.parametrize("field", ["title", "location"])
@pytest.mark.parametrize("character", [*REORDERING, "\n", "\x7f"], ids=lambda v: repr(v))
def test_a_title_or_location_that_reorders_or_breaks_its_line_is_refused(field, character):
    message = refusal({**TICKET, field: f"Heating{character}off"}, field)
    assert re.fullmatch(
        r"Contains a control or text-direction character \(U\+[0-9A-F]{4}[ ,].+\): remove it",
        message,
    )


@pytest.mark.parametrize(
    "title",
    [
        "Wifi \u05d1\u05e1\u05e4\u05e8\u05d9\u05d9\u05d4\u200f 2",
        "Leak 🧑\u200d🔧 needed",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    ],
)
def test_titles_keep_the_marks_and_joiners_mixed_scripts_and_emoji_need(title):
    assert TicketIn.model_validate({**TICKET, "title": title}).title == title


async def test_registration_over_the_api_refuses_a_disguised_name_and_makes_no_account(app):
    response = await app.test_client().post(
        "/api/v1/auth/register",
        json={"username": "sam2", "password": PASSPHRASE, "display_name": "Sam\u202eeeL"},
    )
    assert response.status_code == 400
    error = (await response.get_json())["error"]
    assert error["field"] == "display_name"
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in error["detail"]
    assert not await User.exists(username="sam2")


async def test_the_registration_page_shows_the_refusal_beside_the_name(app):
    response = await app.test_client().post(
        "/register",
        form={"username": "sam2", "password": PASSPHRASE, "display_name": "Sam\u200b", "email": ""},
    )
    assert response.status_code == 400
    page = await response.get_data(as_text=True)
    assert re.search(r'id="display_name-error">Contains an invisible[^<]*U\+200B ZERO WIDTH', page)
    assert not await User.exists(username="sam2")


async def test_an_admin_cannot_create_an_account_with_a_disguised_name(app, cast):
    response = await cast.admin.client.post(
        "/api/v1/users",
        json={
            "username": "sam2",
            "password": PASSPHRASE,
            "display_name": "S\u2060am",
            "role": "staff",
        },
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"]["field"] == "display_name"
    assert not await User.exists(username="sam2")


async def test_a_reordering_title_is_refused_on_report_and_edit_and_changes_nothing(app, cast):
    response = await cast.reporter.client.post(
        "/api/v1/tickets", json={**TICKET, "title": "Heating \u202eff\u202c off"}
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"]["field"] == "title"
    assert not await Ticket.exists()
    ticket = await create_ticket(cast.reporter.client)
    response = await cast.reporter.client.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"location": "Dorm B\u2067 214"}
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"]["field"] == "location"
    assert (await Ticket.get(id=ticket["id"])).location == ticket["location"]


async def test_the_report_page_shows_the_refusal_beside_the_title(app, cast):
    response = await cast.reporter.client.post(
        "/tickets/new",
        form={**TICKET, "title": "Heating \u202eff off", "location": "", "priority": "normal"},
    )
    assert response.status_code == 400
    page = await response.get_data(as_text=True)
    assert re.search(r'id="title-error">Contains a control or text-direction character', page)
    assert not await Ticket.exists()
