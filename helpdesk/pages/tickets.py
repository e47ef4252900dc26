"""The reporter's dashboard, the report form and the ticket page."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from markupsafe import Markup, escape
from pydantic import field_validator
from pydantic_core import PydanticCustomError
from quart import Blueprint, current_app, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue

from ..domain import known_issues
from ..domain import tickets as ticket_rules
from ..domain.access import require_staff, visible_ticket
from ..domain.accounts import active_staff
from ..domain.activity import last_event_id, recent_activity, summarize
from ..domain.attachments import describe_size, visible_attachment
from ..domain.events import LoggedEvent, ticket_room, user_room
from ..domain.fields import MAX_ID, Cursor, Note, PublicNote, QueryId, Title
from ..domain.labels import CATEGORY_LABELS
from ..domain.messages import list_messages, post_message
from ..domain.reads import unread_counts
from ..domain.reporters import reporter_named
from ..domain.serialize import history_json, message_json, ticket_json
from ..domain.workflow import targets_for
from ..encoding import loads
from ..errors import Conflict, HelpdeskError, NotFound, RateLimited, ValidationFailed
from ..models import (
    Message,
    Priority,
    Role,
    Status,
    StatusChange,
    Ticket,
    TicketEdit,
    TicketMerge,
    User,
)
from ..schemas import MessageIn, StatusIn, StrictModel, TicketIn
from ..web.context import services
from ..web.sessions import require_account
from .filters import filter_problems, ticket_query
from .forms import FieldErrors, FormWithFiles, error_for_form, parse_form, read_form_with_files

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
    changes: list[StatusChange | TicketEdit | TicketMerge],
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
        if not isinstance(change, TicketMerge)  # the History panel's, not the conversation's
        and (start is None or change.at >= start)
        and (end is None or change.at <= end)
    ]
    items = [(m.created_at, {"message": message_json(m)}) for m in messages]
    items += [(c.at, {"change": history_json(c)}) for c in shown]
    return [item for _, item in sorted(items, key=lambda pair: pair[0])]


def workflow_for(user: User) -> dict[str, list[str]]:
    """The moves this user may make from each status, for scripts to offer only those."""
    return {status.value: [to.value for to in targets_for(user, status)] for status in Status}


def form_context(**extra: Any) -> dict[str, Any]:
    return {
        "categories": CATEGORY_LABELS,
        "priorities": list(Priority),
        "limits": services().uploads.limits,
        "kept": [],
        **extra,
    }


@blueprint.app_template_filter("filesize")
def filesize(size: int) -> str:
    return describe_size(size)


# The API's names for a file's field; on a page, its problems go beside the file picker.
FILE_FIELDS = ("file", "attachment_ids")


def file_errors(error: HelpdeskError) -> FieldErrors:
    """A refusal for the form: beside the field it names (the picker for a file's), or on top."""
    ((name, words),) = error_for_form(error).items()
    return {"files" if name in FILE_FIELDS else name: words}


def about_file(filename: str, detail: str) -> str:
    """A file's refusal in words that say which file, when several were chosen."""
    if not filename:
        text = detail[:1].upper() + detail[1:]
    else:
        text = detail if detail.startswith(filename) else f"{filename}: {detail}"
    return text.rstrip(".") + "."


@dataclass(frozen=True)
class StoredFiles:
    ids: list[int]  # the uploads kept from an earlier try, then the files stored now
    errors: FieldErrors  # the files refused, beside the picker
    status: int = 400  # the answer when the form comes back


async def store_files(user: User, ticket_id: int | None, form: FormWithFiles) -> StoredFiles:
    """Store the files chosen in a form sent without scripts, as the API's uploads would.

    Each one refused (not a photo or PDF, too large, over the hour's allowance) is named beside
    the picker; the others are stored and kept, so the next try needs only the missing ones."""
    uploads = services().uploads
    ids = list(form.kept_ids)
    if not form.files:
        return StoredFiles(ids, {})
    most = uploads.limits.per_message
    if len(ids) + len(form.files) > most:
        words = f"Attach at most {most} files to one message; choose fewer."
        return StoredFiles(ids, {"files": words}, 413)
    try:
        target = await uploads.target(user, ticket_id)
    except HelpdeskError as error:
        if error.status in (403, 404):
            raise
        return StoredFiles(ids, file_errors(error), error.status)
    problems, status = [], 400
    for file in form.files:
        try:
            stored = await uploads.store(user, target, file.data, file.filename, file.content_type)
        except HelpdeskError as error:
            problems.append(about_file(file.filename, error.detail))
            status = error.status
        else:
            ids.append(stored.id)
    return StoredFiles(ids, {"files": " ".join(problems)} if problems else {}, status)


async def kept_uploads(user: User, ids: list[int]) -> list[dict[str, Any]]:
    """The user's uploads among `ids` not sent yet, for the form to offer again."""
    kept = []
    for attachment_id in ids:
        try:
            attachment = await visible_attachment(user, attachment_id)
        except NotFound:
            continue  # removed meanwhile (a day unsent)
        if attachment.attached_at is None and attachment.uploader_id == user.id:
            kept.append(attachment.describe())
    return kept


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
    try:
        form = await read_form_with_files(services().uploads.limits)
    except HelpdeskError as error:  # a body over what one report may carry: nothing was read
        page = await render_template(
            "tickets/new.html", **form_context(errors=file_errors(error), values={})
        )
        return page, error.status
    data, errors = parse_form(TicketIn, form.fields)
    reporter_id, reporter_errors = await reporter_from(user, form.fields)
    errors |= reporter_errors
    files = await store_files(user, None, form)
    errors |= files.errors
    status, headers = files.status, {}
    if data is not None and not errors:
        draft = ticket_rules.TicketDraft(
            title=data.title,
            description=data.description,
            category=data.category,
            location=data.location,
            priority=data.priority,
            reporter_id=reporter_id,
            attachment_ids=tuple(files.ids),
        )
        app = services()
        try:
            ticket = await ticket_rules.create_ticket(
                app.event_log, app.allowances, user, draft, app.uploads.limits
            )
        except HelpdeskError as error:  # keep what they typed and chose: they can send it later
            if error.status in (403, 404):
                raise
            errors, status = file_errors(error), error.status
            if isinstance(error, RateLimited):
                headers["Retry-After"] = str(error.retry_after)
        else:
            return redirect(url_for("tickets.ticket_page", ticket_id=ticket.id))
    kept = await kept_uploads(user, files.ids)
    page = await render_template(
        "tickets/new.html", **form_context(errors=errors, values=form.fields, kept=kept)
    )
    return page, status, headers


async def render_ticket(
    user: User,
    ticket_id: int,
    errors: FieldErrors | None = None,
    status: int = 200,
    values: Any = None,
    before: int | None = None,
    kept: list[dict[str, Any]] | None = None,
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
            history=[history_json(item) for item in history],
            known_issue=await publication(user, ticket),
            merged_issue=await merged_issue(user, ticket),
            issue_pages=ISSUE_PAGE in current_app.view_functions,
            staff=staff,
            since=since,
            workflow=workflow_for(user),
            moves=[status.value for status in targets_for(user, ticket.status)],
            can_edit=user.is_staff or ticket.status != Status.CLOSED,
            can_reply=user.is_staff or ticket.status != Status.CLOSED,
            errors=errors or {},
            values=values or {},
            kept=kept or [],
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
    """The reply form without scripts: text, files or both; what was refused comes back with
    the text and the files already stored kept."""
    user = await require_account()
    app = services()
    try:
        form = await read_form_with_files(app.uploads.limits)
    except HelpdeskError as error:  # a body over what one message may carry: nothing was read
        return await render_ticket(user, ticket_id, file_errors(error), error.status)
    data, errors = parse_form(MessageIn, form.fields, flags=("internal",))
    files = await store_files(user, ticket_id, form)
    errors |= files.errors
    status = files.status
    if data is not None and not errors:
        try:
            await post_message(
                app.message_writer,
                app.allowances,
                user,
                ticket_id,
                data.body,
                internal=data.internal,
                client_id=data.client_id,
                attachment_ids=files.ids,
                upload_limits=app.uploads.limits,
            )
        except HelpdeskError as error:  # as every form of the ticket page answers: 400
            if error.status == 404:
                raise
            errors, status = file_errors(error), 400
        else:
            return redirect(url_for("tickets.ticket_page", ticket_id=ticket_id) + "#latest")
    kept = await kept_uploads(user, files.ids)
    return await render_ticket(user, ticket_id, errors, status, values=form.fields, kept=kept)


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


# --- known issues: staff publish a ticket, tell the affected, withdraw it, merge duplicates ---

ISSUE_PAGE = "known_issues.issue_page"  # the page everyone may follow a known issue on
ISSUE_REFERENCE = re.compile(r"\b(known issue )#([0-9]{1,10})\b")
ISSUE_LINK = Markup('{}<a href="{}">#{}</a>')  # format() escapes what it is given


@blueprint.app_template_filter("known_issue_links")
def known_issue_links(text: str | None) -> Markup:
    """A note with each "known issue #N" (as a merge writes it) linking to that issue's page,
    where this app serves one; plain text otherwise."""
    text = text or ""
    if ISSUE_PAGE not in current_app.view_functions:
        return escape(text)
    parts: list[str] = []
    done = 0
    for match in ISSUE_REFERENCE.finditer(text):
        href = url_for(ISSUE_PAGE, issue_id=int(match[2]))
        parts += [text[done : match.start()], ISSUE_LINK.format(match[1], href, match[2])]
        done = match.end()
    return Markup("").join([*parts, text[done:]])  # the text between is escaped by join


async def publication(user: User, ticket: Ticket) -> dict[str, Any] | None:
    """For staff: the ticket's known issue as everyone sees it, with every update posted."""
    if not user.is_staff or ticket.known_issue_id is None:
        return None
    try:
        public, updates = await known_issues.public_issue(user, ticket.known_issue_id)
    except NotFound:  # withdrawn between the two reads
        return None
    return {**public, "updates": updates}


async def merged_issue(user: User, ticket: Ticket) -> dict[str, Any] | None:
    """The known issue a duplicate was closed into: where its reporter follows the news (its
    title is gone once the issue is withdrawn)."""
    if ticket.merged_into_id is None:
        return None
    try:
        public, _ = await known_issues.public_issue(user, ticket.merged_into_id)
    except NotFound:
        return {"id": ticket.merged_into_id, "public_title": None}
    return {"id": public["id"], "public_title": public["public_title"]}


class PublishForm(StrictModel):
    """ "Publish as known issue": the words everyone signed in will read, never the reporter's."""

    public_title: Title
    public_note: PublicNote | None = None


class UpdateForm(StrictModel):
    """ "Post an update to everyone affected" (named apart from the reply box's `body`)."""

    update: PublicNote


class MergeForm(StrictModel):
    """ "Close as duplicate of…": a known issue by its number, as `12` or `#12`."""

    into: int
    merge_note: Note | None = None

    @field_validator("into", mode="before")
    @classmethod
    def _issue_number(cls, value: Any) -> int:
        digits = str(value).strip().removeprefix("#").strip()
        if not digits.isdigit():
            raise PydanticCustomError("issue_number", "Enter the number of a known issue, like 12")
        if not 1 <= int(digits) <= MAX_ID:
            raise PydanticCustomError("issue_number", "No known issue has that number")
        return int(digits)


async def _known_issue_form(
    user: User, ticket_id: int, model: type[StrictModel], action: Any
) -> ResponseReturnValue:
    """A known-issue form of the ticket page: validated, applied, back to the page (PRG). The
    ticket is looked up first, so someone else's is 404 as everywhere; any other refusal (not
    staff, not published, no such known issue, closed already) is said in plain words beside
    what was typed."""
    await visible_ticket(user, ticket_id)
    form = await request.form
    data, errors = parse_form(model, form)
    if data is not None:
        try:
            await action(data)
        except HelpdeskError as error:
            errors = error_for_form(error)
        else:
            return redirect(url_for("tickets.ticket_page", ticket_id=ticket_id) + "#known-issue")
    return await render_ticket(user, ticket_id, errors, 400, values=form)


@blueprint.post("/tickets/<int:ticket_id>/known-issue")
async def publish_known_issue(ticket_id: int) -> ResponseReturnValue:
    """Publish the ticket as a known issue, or change its public words."""
    user = await require_account()

    async def action(data: PublishForm) -> None:
        await known_issues.publish(
            services().event_log, user, ticket_id, data.public_title, data.public_note
        )

    return await _known_issue_form(user, ticket_id, PublishForm, action)


@blueprint.post("/tickets/<int:ticket_id>/known-issue/withdraw")
async def withdraw_known_issue(ticket_id: int) -> ResponseReturnValue:
    user = await require_account()

    async def action(_: StrictModel) -> None:
        await known_issues.withdraw(services().event_log, user, ticket_id)

    return await _known_issue_form(user, ticket_id, StrictModel, action)


@blueprint.post("/tickets/<int:ticket_id>/known-issue/updates")
async def post_known_issue_update(ticket_id: int) -> ResponseReturnValue:
    """Tell everyone affected by the ticket's known issue what is happening."""
    user = await require_account()

    async def action(data: UpdateForm) -> None:
        require_staff(user)
        ticket = await visible_ticket(user, ticket_id)
        if ticket.known_issue_id is None:
            raise Conflict("this ticket is not published as a known issue; publish it first")
        await known_issues.post_update(
            services().event_log, user, ticket.known_issue_id, data.update
        )

    return await _known_issue_form(user, ticket_id, UpdateForm, action)


@blueprint.post("/tickets/<int:ticket_id>/merge")
async def merge_ticket(ticket_id: int) -> ResponseReturnValue:
    """Close the ticket as a duplicate of a known issue; its reporter follows that one."""
    user = await require_account()

    async def action(data: MergeForm) -> None:
        try:
            await known_issues.merge(
                services().event_log, user, ticket_id, data.into, data.merge_note
            )
        except NotFound:  # the ticket was found above: it is the known issue that is not
            raise ValidationFailed(
                f"no known issue #{data.into} is published (it may have been withdrawn)",
                field="into",
            ) from None

    return await _known_issue_form(user, ticket_id, MergeForm, action)
