"""Known issues for everyone signed in: what is broken on campus, by building, each with what
the helpdesk last said, and "I'm affected too" as a plain form (static/js/known_issues.js makes
it live). Only the issue's public words are shown, never its ticket's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quart import Blueprint, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from ..domain.activity import last_event_id
from ..domain.events import KNOWN_ISSUES_ROOM
from ..domain.known_issues import building_of, list_known_issues, public_issue, set_affected
from ..domain.tickets import TicketFilters, list_tickets
from ..errors import ValidationFailed
from ..models import Status, User, utcnow
from ..schemas import KnownIssuesQuery, StrictModel
from ..web.context import services
from ..web.redirects import local_path
from ..web.sessions import require_account
from .forms import FieldErrors, parse_form

blueprint = Blueprint("known_issues", __name__)
DASHBOARD_SHOWN = 5  # the dashboard's few; the page lists them all
FILTER_NAMES = {"location": "Building", "q": "Words"}


class AffectedForm(StrictModel):
    """The "I'm affected too" button (yes) and its undo (no), and the page to come back to."""

    affected: bool = True
    next: str | None = None


def by_building(items: list[dict[str, Any]]) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """The issues under their buildings, A to Z, those of no building last; each building's
    in the order given (newest news, or best match, first)."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item["building"], []).append(item)
    return sorted(groups.items(), key=lambda pair: (pair[0] is None, (pair[0] or "").casefold()))


def issues_query(args: MultiDict[str, str]) -> tuple[KnownIssuesQuery, FieldErrors]:
    """The list's filters from its address; a bad one is left out and named, the other applies."""
    query, errors = parse_form(KnownIssuesQuery, args)
    if query is None:
        good = [(name, value) for name, value in args.items(multi=True) if name not in errors]
        query, _ = parse_form(KnownIssuesQuery, MultiDict(good))
    return query or KnownIssuesQuery(), errors


def back_here() -> str:
    """This page's own address, for a form on it to come back to."""
    return request.full_path.rstrip("?")


@blueprint.get("/known-issues")
async def list_page() -> ResponseReturnValue:
    user = await require_account()
    query, errors = issues_query(request.args)
    since = await last_event_id(user, KNOWN_ISSUES_ROOM)  # the socket replays what follows
    now = utcnow()
    everything = await list_known_issues(user, now=now)
    filtered = bool(query.location or query.q)
    items = (
        await list_known_issues(user, location=query.location, q=query.q, now=now)
        if filtered
        else everything
    )
    chosen = building_of(query.location)
    buildings = sorted({i["building"] for i in everything if i["building"]}, key=str.casefold)
    if chosen and chosen.casefold() not in {b.casefold() for b in buildings}:
        buildings.append(chosen)
    return await render_template(
        "known_issues/list.html",
        groups=by_building(items),
        buildings=buildings,
        chosen=chosen or "",
        q=query.q or "",
        filtered=filtered,
        problems=[f"{FILTER_NAMES.get(name, name)}: {text}" for name, text in errors.items()],
        since=since,
        back=back_here(),
    )


@blueprint.get("/known-issues/<int:issue_id>")
async def issue_page(issue_id: int) -> ResponseReturnValue:
    user = await require_account()
    since = await last_event_id(user, KNOWN_ISSUES_ROOM)
    issue, updates = await public_issue(user, issue_id)
    return await render_template(
        "known_issues/detail.html", issue=issue, updates=updates, since=since, back=back_here()
    )


@blueprint.post("/known-issues/<int:issue_id>/affected")
async def affected(issue_id: int) -> ResponseReturnValue:
    """The me-too form without scripts: say so (or take it back), then back to the page it
    was sent from (PRG), at the issue's card."""
    user = await require_account()
    data, errors = parse_form(AffectedForm, await request.form)
    if data is None:
        raise ValidationFailed(
            "say yes or no to being affected by this known issue", field=next(iter(errors))
        )
    app = services()
    await set_affected(app.event_log, app.allowances, user, issue_id, affected=data.affected)
    target = local_path(data.next) or url_for("known_issues.issue_page", issue_id=issue_id)
    if "#" not in target:
        target += f"#known-issue-{issue_id}"
    return redirect(target)


@dataclass(frozen=True)
class DashboardIssues:
    """The dashboard's few known issues (at most `limit`, live ones included), where the
    socket's replay starts, and whether the known issues page has more."""

    items: list[dict[str, Any]]
    since: int
    more: bool
    limit: int = DASHBOARD_SHOWN


async def my_buildings(user: User) -> set[str]:
    """The buildings of the user's own open and in-progress tickets, in lower case."""
    if user.is_staff:  # their tickets are everyone's: no building is theirs in particular
        return set()
    page = await list_tickets(user, TicketFilters(statuses=(Status.OPEN, Status.ACTIVE)))
    return {
        building.casefold()
        for ticket in page.items
        if (building := building_of(ticket.location)) is not None
    }


@blueprint.app_template_global()
async def dashboard_known_issues() -> DashboardIssues:
    """For the dashboard's "Known issues" section: those in the buildings of the user's open
    tickets first, then what is still broken, then the recently fixed; the newest news first
    among each."""
    user = await require_account()
    since = await last_event_id(user, KNOWN_ISSUES_ROOM)
    items = await list_known_issues(user, now=utcnow())
    mine = await my_buildings(user)
    items.sort(
        key=lambda item: (
            (item["building"] or "").casefold() not in mine,
            item["status"] == Status.CLOSED.value,
        )
    )
    return DashboardIssues(items[:DASHBOARD_SHOWN], since, len(items) > DASHBOARD_SHOWN)
