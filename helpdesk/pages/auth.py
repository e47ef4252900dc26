"""Sign-in, sign-up and sign-out pages."""

from __future__ import annotations

from quart import Blueprint, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue

from ..domain import mailed_tokens
from ..domain.registration import Registration, confirm_address
from ..errors import Forbidden, HelpdeskError, NotFound, RateLimited
from ..mail.account_mail import (
    ask_for_address_confirmation,
    ask_for_password_reset,
    send_address_confirmation,
)
from ..models import TokenPurpose
from ..schemas import LoginIn, PasswordResetIn, RegisterIn
from ..web.context import services
from ..web.oidc import end_session_url
from ..web.redirects import local_path, safe_next
from ..web.sessions import (
    client_address,
    current_account,
    log_in,
    require_account,
    sign_out,
    sign_up,
)
from .forms import error_for_form, parse_form

blueprint = Blueprint("auth", __name__)


@blueprint.route("/login", methods=["GET", "POST"])
async def login() -> ResponseReturnValue:
    if request.method == "GET":
        if await current_account() is not None:
            return redirect(safe_next(request.args.get("next")))
        return await render_template(
            "auth/login.html", errors={}, values={}, next=local_path(request.args.get("next")) or ""
        )
    form = await request.form
    data, errors = parse_form(LoginIn, form)
    status, headers = 400, {}
    if data is not None:
        try:
            await log_in(data.username, data.password)
        except RateLimited as error:
            errors, status = error_for_form(error), 429
            headers["Retry-After"] = str(error.retry_after)
        except Forbidden as error:  # passwords are turned off here
            errors, status = error_for_form(error), error.status
        except HelpdeskError as error:
            errors, status = {"form": "Wrong username or password."}, error.status
        else:
            return redirect(safe_next(form.get("next")))
    page = await render_template(
        "auth/login.html",
        errors=errors,
        values={"username": form.get("username", "")},
        next=local_path(form.get("next")) or "",
    )
    return page, status, headers


@blueprint.route("/register", methods=["GET", "POST"])
async def register() -> ResponseReturnValue:
    registration = Registration.from_settings(services().settings)
    if request.method == "GET":
        return await _register_page(registration, {}, {})
    if not registration.is_open:
        return await _register_page(registration, {}, {}, 403)
    form = await request.form
    data, errors = parse_form(RegisterIn, form)
    status, headers = 400, {}
    if data is not None:
        try:
            user = await sign_up(
                data.username, data.password, display_name=data.display_name, email=data.email
            )
        except RateLimited as error:
            errors, status = error_for_form(error), 429
            headers["Retry-After"] = str(error.retry_after)
        except HelpdeskError as error:
            errors = error_for_form(error)
        else:
            if user.email_confirmed:
                return redirect(safe_next(None))
            await send_address_confirmation(services(), user)
            return redirect(url_for("auth.confirmation"))
    values = {name: form.get(name, "") for name in ("username", "display_name", "email")}
    return await _register_page(registration, errors, values, status, headers)


async def _register_page(
    registration: Registration,
    errors: dict[str, str],
    values: dict[str, str],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> ResponseReturnValue:
    page = await render_template(
        "auth/register.html", errors=errors, values=values, registration=registration
    )
    return page, status, headers or {}


@blueprint.post("/logout")
async def logout() -> ResponseReturnValue:
    account = await current_account()
    await sign_out()
    provider_logout = await end_session_url(services().settings, account)
    return redirect(provider_logout or url_for("auth.login"))


@blueprint.route("/password-reset", methods=["GET", "POST"])
async def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link by username or email; the same answer whether or not one matched."""
    if request.method == "GET":
        return await render_template("auth/forgot_password.html", errors={}, values={})
    form = await request.form
    data, errors = parse_form(PasswordResetIn, form)
    status, headers = 400, {}
    if data is not None:
        try:
            await ask_for_password_reset(services(), client_address(), data.login)
        except RateLimited as error:
            errors, status = error_for_form(error), 429
            headers["Retry-After"] = str(error.retry_after)
        else:
            return await render_template("auth/reset_asked.html")
    page = await render_template(
        "auth/forgot_password.html", errors=errors, values={"login": form.get("login", "")}
    )
    return page, status, headers


async def _link_invalid() -> ResponseReturnValue:
    """One page for a link that is unknown, used, expired or its account's deactivated."""
    return await render_template("auth/link_invalid.html"), 404


@blueprint.route("/password-reset/<token>", methods=["GET", "POST"])
async def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password. Afterwards every session of the account has ended and nobody is
    signed in: the person signs in with the new password, like anyone else."""
    if await mailed_tokens.holder(token, TokenPurpose.PASSWORD_RESET) is None:
        return await _link_invalid()
    if request.method == "GET":
        return await render_template("auth/reset_password.html", token=token, errors={})
    form = await request.form
    new_password = form.get("new_password", "")
    if not new_password:
        errors = {"new_password": "Please fill this in."}
    else:
        try:
            await services().sessions.reset_password(token, new_password[:256])
        except NotFound:
            return await _link_invalid()
        except HelpdeskError as error:
            errors = error_for_form(error)
        else:
            return await render_template("auth/reset_done.html")
    page = await render_template("auth/reset_password.html", token=token, errors=errors)
    return page, 400


@blueprint.route("/confirm-address/<token>", methods=["GET", "POST"])
async def confirm_address_link(token: str) -> ResponseReturnValue:
    """A GET (the person, or a mail scanner following links) only shows a button."""
    if await mailed_tokens.holder(token, TokenPurpose.CONFIRM_ADDRESS) is None:
        return await _link_invalid()
    if request.method == "GET":
        return await render_template("auth/confirm_address.html", token=token, done=False)
    try:
        await confirm_address(token)
    except NotFound:
        return await _link_invalid()
    return await render_template("auth/confirm_address.html", token=token, done=True)


@blueprint.route("/confirm-address", methods=["GET", "POST"])
async def confirmation() -> ResponseReturnValue:
    """Where a new unconfirmed account lands: which address the link went to, and another."""
    user = await require_account()
    if user.email_confirmed:
        return redirect(safe_next(None))
    errors, status, headers, sent = {}, 200, {}, False
    if request.method == "POST":
        try:
            await ask_for_address_confirmation(services(), user)
        except RateLimited as error:
            errors, status = error_for_form(error), 429
            headers["Retry-After"] = str(error.retry_after)
        else:
            sent = True
    page = await render_template("auth/confirmation.html", user=user, errors=errors, sent=sent)
    return page, status, headers
