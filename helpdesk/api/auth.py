"""Signing up, in and out, and who am I."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_request

from ..domain.serialize import user_ref
from ..schemas import LoginIn, PasswordChangeIn, RegisterIn, UserOut
from ..web.context import json_response, services
from ..web.sessions import log_in, require_session, sign_out, sign_up
from .openapi import JSON_BODY, RATE_LIMITED, SIGNED_IN, NoContent, errors
from .schemas import UserEnvelope

blueprint = Blueprint("api_auth", __name__)


@blueprint.post("/auth/register")
@tag(["auth"])
@validate_request(RegisterIn)
@document_response(UserEnvelope, 201)
@errors(JSON_BODY, RATE_LIMITED)
async def post_register(data: RegisterIn) -> Response:
    """Create a reporter account and sign it in (`HELPDESK_REGISTRATIONS_PER_HOUR` per client
    address)."""
    user = await sign_up(
        data.username, data.password, display_name=data.display_name, email=data.email
    )
    return json_response({"user": user_ref(user)}, 201)


@blueprint.post("/auth/login")
@tag(["auth"])
@validate_request(LoginIn)
@document_response(UserEnvelope, 200)
@errors(JSON_BODY, SIGNED_IN, RATE_LIMITED)
async def post_login(data: LoginIn) -> Response:
    """Sign in with a fresh session; 429 with Retry-After after repeated failures."""
    user = await log_in(data.username, data.password)
    return json_response({"user": user_ref(user)})


@blueprint.post("/auth/logout")
@tag(["auth"])
@document_response(NoContent, 204)
@errors(SIGNED_IN)
async def post_logout() -> Response:
    """End this session everywhere its cookie is used, open sockets included."""
    await require_session()
    await sign_out()
    return Response(status=204)


@blueprint.get("/me")
@tag(["auth"])
@document_response(UserOut, 200)
@errors(SIGNED_IN)
async def get_me() -> Response:
    session = await require_session()
    return json_response(user_ref(session.user))


@blueprint.post("/me/password")
@tag(["auth"])
@validate_request(PasswordChangeIn)
@document_response(NoContent, 204)
@errors(JSON_BODY, SIGNED_IN, RATE_LIMITED)
async def post_password(data: PasswordChangeIn) -> Response:
    """Change the password; every other session of the account is signed out. Wrong current
    passwords are limited like failed sign-ins."""
    session = await require_session()
    await services().sessions.change_password(
        session.user, data.current_password, data.new_password, session_key=session.session_key
    )
    return Response(status=204)
