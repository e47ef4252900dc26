"""Sign-in, sign-up and sign-out pages."""

from __future__ import annotations

from quart import Blueprint, current_app, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue

from ..api.schemas import LoginIn, RegisterIn
from ..domain.accounts import create_user
from ..errors import HelpdeskError, RateLimited
from ..web.context import services
from ..web.sessions import current_account, log_in, sign_in, sign_out
from .forms import error_for_form, parse_form

blueprint = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for(current_app.config["HOME_ENDPOINT"])


@blueprint.route("/login", methods=["GET", "POST"])
async def login() -> ResponseReturnValue:
    if request.method == "GET":
        if await current_account() is not None:
            return redirect(safe_next(request.args.get("next")))
        return await render_template(
            "auth/login.html", errors={}, values={}, next=request.args.get("next", "")
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
        except HelpdeskError as error:
            errors, status = {"form": "Wrong username or password."}, error.status
        else:
            return redirect(safe_next(form.get("next")))
    page = await render_template(
        "auth/login.html",
        errors=errors,
        values={"username": form.get("username", "")},
        next=form.get("next", ""),
    )
    return page, status, headers


@blueprint.route("/register", methods=["GET", "POST"])
async def register() -> ResponseReturnValue:
    if request.method == "GET":
        return await render_template("auth/register.html", errors={}, values={})
    form = await request.form
    data, errors = parse_form(RegisterIn, form)
    if data is not None:
        try:
            user = await create_user(
                data.username, data.password, display_name=data.display_name, email=data.email
            )
        except HelpdeskError as error:
            errors = error_for_form(error)
        else:
            await sign_in(user)
            return redirect(safe_next(None))
    values = {name: form.get(name, "") for name in ("username", "display_name", "email")}
    return await render_template("auth/register.html", errors=errors, values=values), 400


@blueprint.post("/logout")
async def logout() -> ResponseReturnValue:
    session_key = await sign_out()
    if session_key is not None:
        await services().hub.disconnect(session_key=session_key)
    return redirect(url_for("auth.login"))
