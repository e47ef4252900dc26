"""Sign in with the university account: off to the provider, and back with who signed in."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, redirect, render_template, request
from quart.typing import ResponseReturnValue

from ..domain.identities import account_for
from ..errors import Forbidden, NotFound
from ..web import oidc
from ..web.context import services
from ..web.redirects import safe_next
from ..web.sessions import sign_in_afresh
from .forms import error_for_form

blueprint = Blueprint("oidc", __name__)


@blueprint.app_context_processor
def sign_in_options() -> dict[str, Any]:
    """Which ways in the sign-in page offers."""
    settings = services().settings
    return {"oidc_sign_in": settings.oidc_enabled, "password_login": settings.password_login}


async def _login_page(error: oidc.SignInRefused | Forbidden) -> ResponseReturnValue:
    """Back on the sign-in page, saying in plain words why not."""
    errors = error_for_form(error)
    page = await render_template("auth/login.html", errors=errors, values={}, next="")
    response = await services().make_response((page, error.status))
    oidc.clear_flow_cookie(response, services().settings)
    return response


@blueprint.get("/login/oidc")
async def start_oidc() -> ResponseReturnValue:
    settings = services().settings
    if not settings.oidc_enabled:
        raise NotFound("university sign-in is not set up here")
    try:
        url, flow = await oidc.begin(settings, request.args.get("next"))
    except oidc.SignInRefused as error:
        return await _login_page(error)
    response = redirect(url)
    oidc.set_flow_cookie(response, settings, flow)
    return response


@blueprint.get("/login/oidc/callback")
async def oidc_callback() -> ResponseReturnValue:
    settings = services().settings
    if not settings.oidc_enabled:
        raise NotFound("university sign-in is not set up here")
    try:
        flow = oidc.read_flow(settings, request.cookies.get(oidc.FLOW_COOKIE))
        identity = await oidc.finish(settings, flow, request.args)
        user = await account_for(identity, frozenset(settings.oidc_staff_groups))
    except (oidc.SignInRefused, Forbidden) as error:
        return await _login_page(error)
    await sign_in_afresh(user)
    response = redirect(safe_next(flow.next))
    oidc.clear_flow_cookie(response, settings)
    return response
