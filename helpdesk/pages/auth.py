"""Sign-in, sign-up and sign-out pages."""

from __future__ import annotations

from quart import Blueprint, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue

from ..errors import Forbidden, HelpdeskError, RateLimited
from ..schemas import LoginIn, RegisterIn
from ..web.context import services
from ..web.oidc import end_session_url
from ..web.redirects import local_path, safe_next
from ..web.sessions import current_account, log_in, sign_out, sign_up
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
    if request.method == "GET":
        return await render_template("auth/register.html", errors={}, values={})
    form = await request.form
    data, errors = parse_form(RegisterIn, form)
    status, headers = 400, {}
    if data is not None:
        try:
            await sign_up(
                data.username, data.password, display_name=data.display_name, email=data.email
            )
        except RateLimited as error:
            errors, status = error_for_form(error), 429
            headers["Retry-After"] = str(error.retry_after)
        except HelpdeskError as error:
            errors = error_for_form(error)
        else:
            return redirect(safe_next(None))
    values = {name: form.get(name, "") for name in ("username", "display_name", "email")}
    page = await render_template("auth/register.html", errors=errors, values=values)
    return page, status, headers


@blueprint.post("/logout")
async def logout() -> ResponseReturnValue:
    account = await current_account()
    await sign_out()
    provider_logout = await end_session_url(services().settings, account)
    return redirect(provider_logout or url_for("auth.login"))
