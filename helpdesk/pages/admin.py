"""Pages for admins, under /admin/: accounts (find, create, change a role, deactivate and
reactivate), the audit log, the settings in effect, and mail that did not go out. Every change
is a plain form, so it works without scripts; the domain checks and logs it."""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import ValidationError
from quart import Blueprint, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue

from ..domain.access import require_admin
from ..domain.accounts import create_user
from ..domain.audit import audit_json, audit_page
from ..domain.users import account, account_json, find_users
from ..errors import HelpdeskError, ValidationFailed
from ..mail.account_mail import send_password_reset
from ..mail.review import send_again, troubled_mail
from ..models import AuditEntry, Role, User
from ..schemas import AuditQuery, NewUserIn, UsersQuery
from ..web.acting import acting
from ..web.context import services
from ..web.sessions import require_account
from .deployment import production_gaps, shown_settings
from .forms import FieldErrors, error_for_form, parse_form

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
RECENT_ENTRIES = 20  # of one account, on its page; the audit log has them all

ROLE_LABELS = {Role.USER: "Reporter", Role.STAFF: "Staff", Role.ADMIN: "Admin"}


async def _admin() -> User:
    user = await require_account()
    require_admin(user)
    return user


def _query(model: type[UsersQuery] | type[AuditQuery]) -> tuple[Any, str | None]:
    """The page's query string, or its defaults and a sentence saying what was wrong."""
    args = {name: value for name, value in request.args.items() if value.strip()}
    try:
        return model.model_validate(
            {name: args[name] for name in model.model_fields if name in args}
        ), None
    except ValidationError:
        return model(), "That search could not be read, so everything is shown."


@blueprint.get("/")
async def users() -> ResponseReturnValue:
    """The admin's home: every account, newest first, found by name, username, email or role."""
    admin = await _admin()
    query, problem = _query(UsersQuery)
    page = await find_users(
        admin,
        q=query.q.strip() if query.q else None,
        role=query.role,
        cursor=query.cursor,
        limit=query.limit,
    )
    more = None
    if page.next_cursor:
        more = url_for("admin.users", **{**request.args.to_dict(), "cursor": page.next_cursor})
    return await render_template(
        "admin/users.html",
        accounts=[account_json(user) for user in page.items],
        q=query.q or "",
        role=query.role.value if query.role else "",
        roles=ROLE_LABELS,
        first_page=query.cursor is None,
        more_url=more,
        problem=problem,
    )


async def _new_page(errors: FieldErrors, form: Any = None) -> str:
    return await render_template(
        "admin/new_user.html", errors=errors, form=form or {}, roles=ROLE_LABELS
    )


@blueprint.get("/users/new")
async def new_user() -> ResponseReturnValue:
    await _admin()
    return await _new_page({})


@blueprint.post("/users/new")
async def post_new_user() -> ResponseReturnValue:
    actor = await acting()
    require_admin(actor.user)
    form = (await request.form).copy()
    mail_a_link = form.get("send_reset") == "yes"
    if mail_a_link and not form.get("email", "").strip():
        errors = {"email": "Enter the address the link goes to."}
        return await _new_page(errors, form), 400
    if mail_a_link and not form.get("password"):
        # Nobody ever sees this one: the person sets their own through the mailed link.
        form["password"] = secrets.token_urlsafe(24)
    data, errors = parse_form(NewUserIn, form)
    if data is None:
        return await _new_page(errors, form), 400
    try:
        user = await create_user(
            data.username,
            data.password,
            display_name=data.display_name,
            email=data.email,
            role=data.role,
            by=actor,
        )
    except HelpdeskError as error:
        return await _new_page(error_for_form(error), form), error.status
    done = "created"
    if mail_a_link:
        try:
            await send_password_reset(services(), actor, user)
            done = "created_mailed"
        except HelpdeskError as error:
            return await _user_page(actor.user, user.id, error_for_form(error)), error.status
    return redirect(url_for("admin.user", user_id=user.id, done=done))


async def _user_page(admin: User, user_id: int, errors: FieldErrors | None = None) -> str:
    user = await account(admin, user_id)
    entries = (
        await AuditEntry.filter(target_id=user.id)
        .select_related("actor", "target")
        .order_by("-id")
        .limit(RECENT_ENTRIES)
    )
    return await render_template(
        "admin/user.html",
        person=account_json(user),
        is_self=user.id == admin.id,
        roles=ROLE_LABELS,
        entries=[audit_json(entry) for entry in entries],
        done=request.args.get("done"),
        errors=errors or {},
    )


@blueprint.get("/users/<int:user_id>")
async def user(user_id: int) -> ResponseReturnValue:
    return await _user_page(await _admin(), user_id)


@blueprint.post("/users/<int:user_id>/role")
async def post_role(user_id: int) -> ResponseReturnValue:
    actor = await acting()
    require_admin(actor.user)
    form = await request.form
    try:
        role = Role(form.get("role", ""))
    except ValueError:
        errors = {"role": "Choose one of: " + ", ".join(ROLE_LABELS.values()) + "."}
        return await _user_page(actor.user, user_id, errors), 400
    try:
        await services().sessions.set_role(actor, user_id, role)
    except HelpdeskError as error:
        return await _user_page(actor.user, user_id, error_for_form(error)), error.status
    return redirect(url_for("admin.user", user_id=user_id, done="role"))


@blueprint.post("/users/<int:user_id>/active")
async def post_active(user_id: int) -> ResponseReturnValue:
    """Deactivating needs the confirmation box ticked: it signs the person out everywhere."""
    actor = await acting()
    require_admin(actor.user)
    form = await request.form
    active = form.get("is_active") == "yes"
    try:
        if not active and form.get("confirm") != "yes":
            raise ValidationFailed(
                "tick the box to confirm: they are signed out everywhere at once",
                field="confirm",
            )
        await services().sessions.set_active(actor, user_id, active)
    except HelpdeskError as error:
        return await _user_page(actor.user, user_id, error_for_form(error)), error.status
    done = "reactivated" if active else "deactivated"
    return redirect(url_for("admin.user", user_id=user_id, done=done))


@blueprint.post("/users/<int:user_id>/password-reset")
async def post_password_reset(user_id: int) -> ResponseReturnValue:
    """Mail the account a link to choose a new password (the one the person can ask for)."""
    actor = await acting()
    require_admin(actor.user)
    try:
        await send_password_reset(services(), actor, await account(actor.user, user_id))
    except HelpdeskError as error:
        return await _user_page(actor.user, user_id, error_for_form(error)), error.status
    return redirect(url_for("admin.user", user_id=user_id, done="reset"))


@blueprint.get("/audit")
async def audit() -> ResponseReturnValue:
    """Every admin action, newest first, a page at a time."""
    admin = await _admin()
    query, problem = _query(AuditQuery)
    page = await audit_page(admin, cursor=query.cursor, limit=query.limit)
    more = url_for("admin.audit", cursor=page.next_cursor) if page.next_cursor else None
    return await render_template(
        "admin/audit.html",
        entries=[audit_json(entry) for entry in page.items],
        first_page=query.cursor is None,
        more_url=more,
        problem=problem,
    )


@blueprint.get("/settings")
async def settings() -> ResponseReturnValue:
    """The configuration in effect, without its secrets, and what production still needs."""
    await _admin()
    current = services().settings
    return await render_template(
        "admin/settings.html", settings=shown_settings(current), gaps=production_gaps(current)
    )


async def _mail_page(errors: FieldErrors, failed_id: int | None = None) -> str:
    mails = await troubled_mail(await require_account())
    return await render_template("admin/mail.html", mails=mails, errors=errors, failed_id=failed_id)


@blueprint.get("/mail")
async def mail() -> ResponseReturnValue:
    return await _mail_page({})


@blueprint.post("/mail/<int:mail_id>/retry")
async def retry(mail_id: int) -> ResponseReturnValue:
    actor = await acting()
    require_admin(actor.user)
    form = await request.form
    try:
        await send_again(actor, mail_id, not_delivered=form.get("not_delivered") == "yes")
    except HelpdeskError as error:
        return await _mail_page(error_for_form(error), mail_id), error.status
    return redirect(url_for("admin.mail", sent_again=mail_id))
