"""Staff's known-issue forms on the ticket page without scripts: publish, post an update,
withdraw, close as a duplicate; refusals in plain words, and reporters refused."""

from __future__ import annotations

import pytest

from tests.conftest import create_ticket, json_of
from tests.pages.test_ticket_history import words


async def page_of(client, ticket_id: int) -> str:
    response = await client.get(f"/tickets/{ticket_id}")
    assert response.status_code == 200
    return await response.get_data(as_text=True)


def panel(page: str) -> str:
    """What the known-issue panel says, as a reader sees it."""
    start = page.index('id="known-issue"')
    return words(page[start : page.index("</section>", start)])


async def post(client, path: str, **form: str):
    return await client.post(path, form=form)


async def outage(cast) -> dict:
    return await create_ticket(
        cast.reporter.client,
        title="No wifi in the library",
        description="Rita's laptop in room 2.14 drops eduroam",
        location="Library, 2nd floor",
    )


async def publish(cast, ticket_id: int, title: str = "Library wifi outage") -> dict:
    response = await post(
        cast.staff.client,
        f"/tickets/{ticket_id}/known-issue",
        public_title=title,
        public_note="Engineers are on it.",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tickets/{ticket_id}#known-issue"
    [listed] = (await json_of(await cast.other.client.get("/api/v1/known-issues")))["items"]
    return listed


async def test_staff_publish_from_the_page_under_words_of_their_own(app, cast):
    ticket = await outage(cast)
    before = await page_of(cast.staff.client, ticket["id"])
    assert "Publish as known issue" in panel(before)
    assert "The reporter's own words, name and room are not shown" in panel(before)
    assert 'name="public_title" maxlength="200" value="No wifi in the library"' in before

    listed = await publish(cast, ticket["id"])
    assert (listed["public_title"], listed["public_note"]) == (
        "Library wifi outage",
        "Engineers are on it.",
    )
    page = await page_of(cast.staff.client, ticket["id"])
    after = panel(page)
    assert f"Published as known issue #{listed['id']}" in after
    assert '<strong id="public-title">Library wifi outage</strong>' in page
    assert "1 affected" in after
    assert "Post an update to everyone affected" in after and "Withdraw" in after
    assert 'id="known-issue"' not in await page_of(cast.reporter.client, ticket["id"])


async def test_a_public_title_left_empty_is_refused_beside_it_and_nothing_is_published(app, cast):
    ticket = await outage(cast)
    response = await post(
        cast.staff.client,
        f"/tickets/{ticket['id']}/known-issue",
        public_title="  ",
        public_note="Kept as typed",
    )
    assert response.status_code == 400
    page = await response.get_data(as_text=True)
    assert '<p class="field-error" id="public_title-error">Please fill this in.</p>' in page
    assert "Kept as typed</textarea>" in page
    assert (await json_of(await cast.other.client.get("/api/v1/known-issues")))["items"] == []


async def test_staff_post_an_update_and_withdraw_from_the_page(app, cast):
    ticket = await outage(cast)
    issue = await publish(cast, ticket["id"])
    path = f"/tickets/{ticket['id']}/known-issue"
    posted = await post(
        cast.staff.client, f"{path}/updates", update="The router is replaced at 3 pm."
    )
    assert posted.status_code == 302
    assert "The router is replaced at 3 pm." in panel(
        await page_of(cast.staff.client, ticket["id"])
    )
    detail = await json_of(await cast.other.client.get(f"/api/v1/known-issues/{issue['id']}"))
    assert [each["body"] for each in detail["updates"]] == ["The router is replaced at 3 pm."]

    assert (await post(cast.staff.client, f"{path}/withdraw")).status_code == 302
    assert (await json_of(await cast.other.client.get("/api/v1/known-issues")))["items"] == []
    assert "Publish as known issue" in panel(await page_of(cast.staff.client, ticket["id"]))

    again = await post(cast.staff.client, f"{path}/withdraw")
    assert again.status_code == 400
    assert "This ticket is not published as a known issue." in await again.get_data(as_text=True)
    late = await post(cast.staff.client, f"{path}/updates", update="Anyone there?")
    assert late.status_code == 400
    assert "This ticket is not published as a known issue; publish it first." in (
        await late.get_data(as_text=True)
    )


async def test_a_duplicate_closed_from_the_page_is_in_both_histories(app, cast):
    ticket = await outage(cast)
    issue = await publish(cast, ticket["id"])
    duplicate = await create_ticket(cast.other.client, title="wifi gone", location="Library")
    response = await post(
        cast.staff.client,
        f"/tickets/{duplicate['id']}/merge",
        into=f"#{issue['id']}",
        merge_note="Follow it there.",
    )
    assert response.status_code == 302
    closed = await json_of(await cast.other.client.get(f"/api/v1/tickets/{duplicate['id']}"))
    assert (closed["status"], closed["merged_into"]) == ("closed", issue["id"])

    seen_by_reporter = await page_of(cast.other.client, duplicate["id"])
    link = f'<a href="/known-issues/{issue["id"]}">'
    notice = seen_by_reporter[seen_by_reporter.index('id="merged-notice"') :]
    assert link in notice[: notice.index("</p>")]
    history = seen_by_reporter[seen_by_reporter.index('id="history"') :]
    assert f"known issue {link}#{issue['id']}</a>: Library wifi outage. Follow it there." in history

    issue_page = await page_of(cast.staff.client, ticket["id"])
    assert f"#{duplicate['id']} was merged into this" in words(
        issue_page[issue_page.index('id="history"') :]
    )
    assert "2 affected" in panel(issue_page)
    assert "was merged into this" not in await page_of(cast.reporter.client, ticket["id"])


@pytest.mark.parametrize(
    ("into", "refusal"),
    [
        ("twelve", "Enter the number of a known issue, like 12."),
        ("99999999999", "No known issue has that number."),
        ("987654", "No known issue #987654 is published (it may have been withdrawn)."),
        ("own", "A ticket cannot be merged into its own known issue."),
        ("", "Please fill this in."),
    ],
)
async def test_a_merge_that_cannot_be_made_says_why_and_changes_nothing(app, cast, into, refusal):
    ticket = await outage(cast)
    issue = await publish(cast, ticket["id"])
    own = into == "own"
    target = ticket if own else await create_ticket(cast.other.client)
    into = str(issue["id"]) if own else into
    response = await post(cast.staff.client, f"/tickets/{target['id']}/merge", into=into)
    assert response.status_code == 400
    page = await response.get_data(as_text=True)
    assert refusal in panel(page)
    if not own:  # the form stays, with what was typed
        assert (
            f'name="into" inputmode="numeric" autocomplete="off" maxlength="12" value="{into}"'
            in page
        )
    unchanged = await json_of(await cast.staff.client.get(f"/api/v1/tickets/{target['id']}"))
    assert (unchanged["status"], unchanged["merged_into"]) == ("open", None)


async def test_a_closed_ticket_is_not_merged_and_the_page_says_so(app, cast):
    ticket = await outage(cast)
    issue = await publish(cast, ticket["id"])
    done = await create_ticket(cast.other.client)
    for status in ("active", "closed"):
        await cast.staff.client.post(
            f"/api/v1/tickets/{done['id']}/status", json={"status": status}
        )
    response = await post(cast.staff.client, f"/tickets/{done['id']}/merge", into=str(issue["id"]))
    assert response.status_code == 400
    assert "Only open or active tickets can be merged into a known issue." in (
        await response.get_data(as_text=True)
    )


FORMS = [
    ("known-issue", {"public_title": "Library wifi outage"}),
    ("known-issue/updates", {"update": "Fixed soon"}),
    ("known-issue/withdraw", {}),
    ("merge", {"into": "ISSUE"}),
]


@pytest.mark.parametrize(("form", "fields"), FORMS, ids=[form for form, _ in FORMS])
async def test_reporters_are_refused_every_staff_form(app, cast, form, fields):
    ticket = await outage(cast)
    issue = await publish(cast, ticket["id"])
    own = await create_ticket(cast.reporter.client, title="Mine")
    fields = {name: str(issue["id"]) if v == "ISSUE" else v for name, v in fields.items()}
    target = own if form == "merge" else ticket

    response = await post(cast.reporter.client, f"/tickets/{target['id']}/{form}", **fields)
    assert response.status_code == 400
    assert "This needs a helpdesk staff account." in await response.get_data(as_text=True)
    someone_elses = await post(cast.other.client, f"/tickets/{target['id']}/{form}", **fields)
    assert someone_elses.status_code == 404

    [still] = (await json_of(await cast.other.client.get("/api/v1/known-issues")))["items"]
    assert (still["public_title"], still["last_update"], still["affected_count"]) == (
        "Library wifi outage",
        None,
        1,
    )
    mine = await json_of(await cast.reporter.client.get(f"/api/v1/tickets/{own['id']}"))
    assert (mine["status"], mine["merged_into"]) == ("open", None)


async def test_the_board_counts_the_affected_and_says_where_duplicates_went(app, cast):
    ticket = await outage(cast)
    issue = await publish(cast, ticket["id"])
    duplicate = await create_ticket(cast.other.client, title="wifi gone")
    merged = await post(
        cast.staff.client, f"/tickets/{duplicate['id']}/merge", into=str(issue["id"])
    )
    assert merged.status_code == 302

    board = await (await cast.staff.client.get("/board")).get_data(as_text=True)
    published = board[board.index(f'data-ticket-id="{ticket["id"]}"') :]
    assert (
        words(published[: published.index("</li>")]).count(
            f"Known issue #{issue['id']} · 2 affected"
        )
        == 1
    )
    closed = board[board.index(f'data-ticket-id="{duplicate["id"]}"') :]
    assert (
        f'duplicate of <a href="/known-issues/{issue["id"]}">known issue #{issue["id"]}</a>'
        in closed[: closed.index("</li>")]
    )


async def test_a_refused_known_issue_form_leaves_the_other_forms_closed(app, cast):
    ticket = await outage(cast)
    response = await post(cast.staff.client, f"/tickets/{ticket['id']}/merge", into="x")
    page = await response.get_data(as_text=True)
    assert '<details id="edit-details">' in page
    assert '<details class="issue-merge" id="merge-details" open>' in page
