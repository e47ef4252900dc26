"""The reporter's dashboard, the report form and the ticket page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from quart import Blueprint, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue

from ..domain import tickets as ticket_rules
from ..domain.access import visible_ticket
from ..domain.accounts import active_staff
from ..domain.activity import last_event_id, recent_activity, summarize
from ..domain.events import LoggedEvent, ticket_room, user_room
from ..domain.fields import Cursor, QueryId
from ..domain.labels import CATEGORY_LABELS
from ..domain.messages import list_messages, post_message
from ..domain.reads import unread_counts
from ..domain.reporters import reporter_named
from ..domain.serialize import history_json, message_json, ticket_json
from ..domain.workflow import targets_for
from ..encoding import loads
from ..errors import HelpdeskError, RateLimited
from ..models import Message, Priority, Role, Status, StatusChange, TicketEdit, User
from ..schemas import MessageIn, StatusIn, StrictModel, TicketIn
from ..web.context import services
from ..web.sessions import require_account
from .filters import filter_problems, ticket_query
from .forms import FieldErrors, error_for_form, parse_form

blueprint = Blueprint("tickets", __name__)
CONVERSATION_PAGE = 50  # the newest messages; "Show earlier" fetches more, this many at a time
DASHBOARD_PAGE = 50  # a reporter's tickets; the next page is a link away


def activity_item(event: LoggedEvent) -> dict[str, Any]:
    """A line of the activity feed: what happened to which ticket, when."""
    data = loads(event.data)
    return {
        "id": event.id,
        "kind": event.kind,
        "summary": summarize(event.kind, data),
        "ticket_id": data.get("ticket_id", data.get("id")),
        "at": event.at,
    }


class ConversationQuery(StrictModel):
    """The ticket page's "Show earlier" link: the page of messages before this id."""

    before: Cursor | None = None


class AssignForm(StrictModel):
    """The assign form's select: an empty choice means nobody."""

    assignee_id: QueryId | None = None


def conversation(
    messages: list[Message],
    changes: list[StatusChange | TicketEdit],
    *,
    earlier: bool,
    windowed: bool,
) -> list[dict[str, Any]]:
    """The shown messages with the status changes and edits made among them, in the order they
    happened.

    A change before the first message shown belongs there only when no earlier messages exist;
    on a page of earlier messages, one after its last message belongs to the next page.
    """
    start = messages[0].created_at if messages and earlier else None
    end = messages[-1].created_at if messages and windowed else None
    shown = [
        change
        for change in changes
        if (start is None or change.at >= start) and (end is None or change.at <= end)
    ]
    items = [(m.created_at, {"message": message_json(m)}) for m in messages]
    items += [(c.at, {"change": history_json(c)}) for c in shown]
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]


def workflow_for(user: User) -> dict[str, list[str]]:
    """The moves this user may make from each status, for scripts to offer only those."""
    return {status.value: [to.value for to in targets_for(user, status)] for status in Status}


def form_context(**extra: Any) -> dict[str, Any]:
    return {"categories": CATEGORY_LABELS, "priorities": list(Priority), **extra}


@blueprint.get("/")
async def dashboard() -> ResponseReturnValue:
    """A reporter's current tickets, their past (closed) ones, or a search over all of their
    own however old, through the tickets listing; a page at a time."""
    user = await require_account()
    if user.role == Role.ADMIN:  # the admin's home is the accounts; the board is in the menu
        return redirect(url_for("admin.users"))
    if user.is_staff:
        return redirect(url_for("board.board"))
    query, errors = ticket_query(request.args)
    show_closed = request.args.get("show") == "closed"
    since = await last_event_id(user, user_room(user.id))
    filters = replace(query.filters_for(user), limit=DASHBOARD_PAGE)
    if not filters.q and not filters.statuses:
        shown = (Status.CLOSED,) if show_closed else (Status.OPEN, Status.ACTIVE)
        filters = replace(filters, statuses=shown)
    page = await ticket_rules.list_tickets(user, filters)
    more = {**request.args.to_dict(), "cursor": page.next_cursor} if page.next_cursor else None
    unread = await unread_counts(user, page.items)
    activity = [activity_item(event) for event in await recent_activity(user, 10)]
    return await render_template(
        "dashboard.html",
        since=since,
        tickets=[ticket_json(t) for t in page.items],
        unread=unread,
        activity=activity,
        show_closed=show_closed and not filters.q,
        q=filters.q or "",
        first_page=filters.cursor is None,
        more_url=url_for("tickets.dashboard", **more) if more else None,
        problems=filter_problems(errors),
        labels=CATEGORY_LABELS,
    )


async def reporter_from(user: User, form: Any) -> tuple[int | None, FieldErrors]:
    """Staff's "Reporting for" field: the account it names by username (empty: their own)."""
    username = form.get("reporter", "").strip()
    if not username or not user.is_staff:  # reporters are never offered the field
        return None, {}
    reporter = await reporter_named(user, username)
    if reporter is None:
        return None, {"reporter": "No reporter account has that username."}
    return reporter.id, {}


@blueprint.route("/tickets/new", methods=["GET", "POST"])
async def new_ticket() -> ResponseReturnValue:
    user = await require_account()
    if request.method == "GET":
        return await render_template("tickets/new.html", **form_context(errors={}, values={}))
    form = await request.form
    data, errors = parse_form(TicketIn, form)
    reporter_id, reporter_errors = await reporter_from(user, form)
    errors |= reporter_errors
    if data is not None and not errors:
        draft = ticket_rules.TicketDraft(
            title=data.title,
            description=data.description,
            category=data.category,
            location=data.location,
            priority=data.priority,
            reporter_id=reporter_id,
        )
        app = services()
        try:
            ticket = await ticket_rules.create_ticket(app.event_log, app.allowances, user, draft)
        except RateLimited as limited:  # keep what they typed: they can send it later
            page = await render_template(
                "tickets/new.html", **form_context(errors=error_for_form(limited), values=form)
            )
            return page, 429, {"Retry-After": str(limited.retry_after)}
        return redirect(url_for("tickets.ticket_page", ticket_id=ticket.id))
    page = await render_template("tickets/new.html", **form_context(errors=errors, values=form))
    return page, 400


async def render_ticket(
    user: User,
    ticket_id: int,
    errors: FieldErrors | None = None,
    status: int = 200,
    values: Any = None,
    before: int | None = None,
) -> ResponseReturnValue:
    ticket = await visible_ticket(user, ticket_id, with_people=True)
    since = await last_event_id(user, ticket_room(ticket_id))  # the socket replays the rest
    messages, earlier = await list_messages(
        user, ticket_id, before=before, latest=True, limit=CONVERSATION_PAGE
    )
    history = await ticket_rules.ticket_history(user, ticket_id)
    windowed = before is not None
    staff = await active_staff() if user.is_staff else []
    page = await render_template(
        "tickets/detail.html",
        **form_context(
            ticket=ticket_json(ticket),
            conversation=conversation(messages, history, earlier=earlier, windowed=windowed),
            oldest_shown=messages[0].id if messages else None,
            earlier=earlier,
            windowed=windowed,
            history=[history_json(c) for c in history],
            staff=staff,
            since=since,
            workflow=workflow_for(user),
            moves=[status.value for status in targets_for(user, ticket.status)],
            can_edit=user.is_staff or ticket.status != Status.CLOSED,
            can_reply=user.is_staff or ticket.status != Status.CLOSED,
            errors=errors or {},
            values=values or {},
            labels=CATEGORY_LABELS,
        ),
    )
    return page, status


@blueprint.get("/tickets/<int:ticket_id>")
async def ticket_page(ticket_id: int) -> ResponseReturnValue:
    user = await require_account()
    query, _ = parse_form(ConversationQuery, request.args)
    if query is None:
        broken = {"form": "That link to earlier messages is not valid; here are the newest."}
        return await render_ticket(user, ticket_id, broken, 400)
    return await render_ticket(user, ticket_id, before=query.before)


def form_version(form: Any) -> int | None:
    """The version the page was rendered with, so a stale form gets the same 409 as the API."""
    raw = form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


async def _apply(
    user: User, ticket_id: int, model: type, action: Any, *, flags: tuple[str, ...] = ()
) -> ResponseReturnValue:
    """Validate a ticket-page form, run the action, and come back to the page (PRG)."""
    form = await request.form
    data, errors = parse_form(model, form, flags=flags)
    if data is not None:
        try:
            await action(data, form)
        except HelpdeskError as error:
            if error.status == 404:
                raise
            errors = error_for_form(error)
        else:
            return redirect(url_for("tickets.ticket_page", ticket_id=ticket_id) + "#latest")
    return await render_ticket(user, ticket_id, errors, 400, values=form)


@blueprint.post("/tickets/<int:ticket_id>/edit")
async def edit_ticket(ticket_id: int) -> ResponseReturnValue:
    user = await require_account()

    async def action(data: TicketIn, form: Any) -> None:
        changes: dict[str, Any] = {
            "title": data.title,
            "description": data.description,
            "category": data.category,
            "location": data.location,
        }
        if "priority" in form:
            changes["priority"] = data.priority
        await ticket_rules.update_ticket(
            services().event_log, user, ticket_id, changes, form_version(form)
        )

    return await _apply(user, ticket_id, TicketIn, action)


@blueprint.post("/tickets/<int:ticket_id>/messages")
async def reply(ticket_id: int) -> ResponseReturnValue:
    user = await require_account()

    async def action(data: MessageIn, _form: Any) -> None:
        await post_message(
            services().message_writer,
            services().allowances,
            user,
            ticket_id,
            data.body,
            internal=data.internal,
            client_id=data.client_id,
        )

    return await _apply(user, ticket_id, MessageIn, action, flags=("internal",))


@blueprint.post("/tickets/<int:ticket_id>/status")
async def move_ticket(ticket_id: int) -> ResponseReturnValue:
    user = await require_account()

    async def action(data: StatusIn, form: Any) -> None:
        await ticket_rules.change_status(
            services().event_log, user, ticket_id, data.status, data.note, form_version(form)
        )

    return await _apply(user, ticket_id, StatusIn, action)


@blueprint.post("/tickets/<int:ticket_id>/assign")
async def assign(ticket_id: int) -> ResponseReturnValue:
    user = await require_account()

    async def action(data: AssignForm, form: Any) -> None:
        await ticket_rules.assign_ticket(
            services().event_log, user, ticket_id, data.assignee_id, form_version(form)
        )

    return await _apply(user, ticket_id, AssignForm, action)
