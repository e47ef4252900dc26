"""The account pages: changing one's password, choosing what mail to get."""

from __future__ import annotations

from quart import Blueprint, render_template, request
from quart.typing import ResponseReturnValue

from ..domain.notifications import EmailPreference, email_preference, set_email_preference
from ..errors import HelpdeskError, RateLimited
from ..models import User
from ..schemas import NotificationsIn, PasswordChangeIn
from ..web.context import services
from ..web.sessions import require_account, require_session
from .forms import FieldErrors, error_for_form, parse_form

blueprint = Blueprint("account", __name__)

EMAIL_CHOICES = {
    EmailPreference.IMMEDIATE: "Soon after each update",
    EmailPreference.DIGEST: "Once a day",
    EmailPreference.OFF: "Never",
}
EMAIL_HINTS = {
    EmailPreference.IMMEDIATE: (
        "A mail a few minutes after an answer or a change you have not seen in the app, "
        "one per ticket."
    ),
    EmailPreference.DIGEST: "One mail a day with everything you have not seen.",
    EmailPreference.OFF: "No mail at all: you see news when you open the helpdesk.",
}


@blueprint.route("/account/password", methods=["GET", "POST"])
async def password() -> ResponseReturnValue:
    session = await require_session()
    if request.method == "GET":
        return await render_template("account/password.html", errors={}, done=False)
    data, errors = parse_form(PasswordChangeIn, await request.form)
    if data is not None:
        try:
            await services().sessions.change_password(
                session.user,
                data.current_password,
                data.new_password,
                session_key=session.session_key,
            )
        except RateLimited as error:
            page = await render_template(
                "account/password.html", errors=error_for_form(error), done=False
            )
            return page, 429, {"Retry-After": str(error.retry_after)}
        except HelpdeskError as error:
            errors = error_for_form(error)
        else:
            return await render_template("account/password.html", errors={}, done=True)
    return await render_template("account/password.html", errors=errors, done=False), 400


async def _notifications_page(account: User, errors: FieldErrors, *, saved: bool) -> str:
    return await render_template(
        "account/notifications.html",
        choices=EMAIL_CHOICES,
        hints=EMAIL_HINTS,
        chosen=email_preference(account),
        errors=errors,
        saved=saved,
    )


@blueprint.route("/account/notifications", methods=["GET", "POST"])
async def notifications() -> ResponseReturnValue:
    account = await require_account()
    if request.method == "GET":
        return await _notifications_page(account, {}, saved=False)
    data, errors = parse_form(NotificationsIn, await request.form)
    if data is None:
        return await _notifications_page(account, errors, saved=False), 400
    await set_email_preference(account, data.email)
    return await _notifications_page(account, {}, saved=True)
