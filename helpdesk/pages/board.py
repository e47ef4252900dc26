"""The staff board: open, active and recently closed tickets in three columns, a page of each,
and the filters a staff member keeps under names."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

from quart import Blueprint, current_app, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from ..domain import tickets as ticket_rules
from ..domain.access import require_staff
from ..domain.accounts import active_staff
from ..domain.activity import last_event_id
from ..domain.events import BOARD_ROOM
from ..domain.labels import CATEGORY_LABELS
from ..domain.saved_filters import delete_filter, save_filter, saved_filters
from ..domain.serialize import ticket_json
from ..encoding import isoformat
from ..errors import HelpdeskError
from ..models import Status, User, utcnow
from ..schemas import SavedFilterIn
from ..web.sessions import require_account
from .filters import filter_problems, ticket_query
from .forms import FieldErrors, error_for_form, parse_form
from .tickets import ISSUE_PAGE, workflow_for

blueprint = Blueprint("board", __name__)
RECENTLY_CLOSED = timedelta(days=7)
COLUMN_SIZE = 50  # a column's first page; "Show more" asks the API for the next
SAVABLE = ("category", "assignee", "q", "sort")  # what the filter form sets, and a name keeps


SORT_LABELS = {
    "newest": "Newest first",
    "activity": "Newest activity",
    "waiting": "Waiting longest",
    "priority": "Priority",
}


def board_query(args: MultiDict[str, str]) -> str:
    """The board's query string for these filters: the ones it can use, as given (the default
    sort left out), so that following a saved filter shows the board it was saved from."""
    _, errors = ticket_query(args)
    return urlencode(
        [
            (name, value.strip())
            for name, value in args.items(multi=True)
            if name in SAVABLE
            and value.strip()
            and name not in errors
            and (name, value) != ("sort", "newest")
        ]
    )


def same_query(one: str, other: str) -> bool:
    return sorted(parse_qsl(one)) == sorted(parse_qsl(other))


def board_address(query: str) -> str:
    return f"{url_for('board.board')}?{query}" if query else url_for("board.board")


@blueprint.get("/board")
async def board() -> ResponseReturnValue:
    user = await require_account()
    return await render_board(user, request.args)


async def render_board(
    user: User,
    args: MultiDict[str, str],
    *,
    save_errors: FieldErrors | None = None,
    save_name: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    """Three columns in the chosen sort, each with its full count. A search covers every closed
    ticket; without one, the Closed column keeps to the last week."""
    require_staff(user)
    query, errors = ticket_query(args)
    base = query.filters_for(user)
    since = await last_event_id(user, BOARD_ROOM)  # before reading: the socket replays the rest
    recently = None if base.q else utcnow() - RECENTLY_CLOSED
    columns, more, counts = {}, {}, {}
    for status_shown in Status:
        filters = replace(
            base,
            statuses=(status_shown,),
            limit=COLUMN_SIZE,
            cursor=None,
            closed_after=recently if status_shown == Status.CLOSED else None,
        )
        page = await ticket_rules.list_tickets(user, filters)
        columns[status_shown.value] = [ticket_json(ticket) for ticket in page.items]
        more[status_shown.value] = page.next_cursor  # "Show more" asks the API from there
        counts[status_shown.value] = await ticket_rules.count_tickets(user, filters)
    staff = await active_staff()
    filtered = any((base.category, base.assignee is not None, base.q))
    current = board_query(args)
    saved = [
        {
            **each,
            "href": board_address(each["query"]),
            "current": same_query(each["query"], current),
        }
        for each in await saved_filters(user)
    ]
    page = await render_template(
        "board.html",
        since=since,
        workflow=workflow_for(user),
        assignee_filter=base.assignee,
        columns=columns,
        more=more,
        counts=counts,
        closed_after=isoformat(recently) if recently else "",
        staff=staff,
        filters=query,
        filtered=filtered,
        sorts=SORT_LABELS,
        errors=errors,
        problems=filter_problems(errors),
        labels=CATEGORY_LABELS,
        saved=saved,
        board_query=current,
        save_errors=save_errors or {},
        save_name=save_name,
        issue_pages=ISSUE_PAGE in current_app.view_functions,
    )
    return page, status


@blueprint.post("/board/filters")
async def save_board_filter() -> ResponseReturnValue:
    """ "Save these filters" without scripts: kept under the name (the same name replaces it),
    then the board they show; a refusal comes back beside the name, the filters still applied."""
    user = await require_account()
    require_staff(user)
    form = await request.form
    data, errors = parse_form(SavedFilterIn, form)
    if "query" in errors:
        errors = {"name": "Choose some filters first, then save them under a name."}
    if data is not None:
        try:
            saved, _ = await save_filter(user, data.name, data.query)
        except HelpdeskError as error:
            errors = error_for_form(error)
        else:
            return redirect(board_address(saved["query"]))
    shown = MultiDict(parse_qsl(form.get("query", "")))
    name = form.get("name", "")
    return await render_board(user, shown, save_errors=errors, save_name=name, status=400)


@blueprint.post("/board/filters/<int:filter_id>/delete")
async def delete_board_filter(filter_id: int) -> ResponseReturnValue:
    """Forget a saved filter, and come back to the board as it was."""
    user = await require_account()
    await delete_filter(user, filter_id)
    back = board_query(MultiDict(parse_qsl((await request.form).get("back", ""))))
    return redirect(board_address(back))
