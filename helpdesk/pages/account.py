"""The account page: changing one's password."""

from __future__ import annotations

from quart import Blueprint, render_template, request
from quart.typing import ResponseReturnValue

from ..api.schemas import PasswordChangeIn
from ..errors import HelpdeskError, RateLimited
from ..web.context import services
from ..web.sessions import require_session
from .forms import error_for_form, parse_form

blueprint = Blueprint("account", __name__)


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
