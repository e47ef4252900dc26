"""Signing up, in and out, and who am I."""

from __future__ import annotations

from pydantic import BaseModel
from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_request

from ..domain.registration import confirm_address
from ..domain.serialize import user_ref
from ..errors import Conflict
from ..mail.account_mail import (
    ask_for_address_confirmation,
    ask_for_password_reset,
    send_address_confirmation,
)
from ..schemas import (
    AddressConfirmIn,
    LoginIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RegisterIn,
    UserOut,
)
from ..web.context import json_response, services
from ..web.sessions import client_address, log_in, require_session, sign_out, sign_up
from .openapi import (
    JSON_BODY,
    NOT_FOUND,
    RATE_LIMITED,
    SIGNED_IN,
    STAFF,
    VERSIONED,
    NoContent,
    errors,
)
from .schemas import UserEnvelope

# The one answer to a reset request, whether or not an account matched.
RESET_ASKED = "If an account matches, we sent a link to its email address. It works for one hour."
CONFIRMATION_SENT = "We sent a new confirmation link to your email address."


class Accepted(BaseModel):
    detail: str


blueprint = Blueprint("api_auth", __name__)


@blueprint.post("/auth/register")
@tag(["auth"])
@validate_request(RegisterIn)
@document_response(UserEnvelope, 201)
@errors(JSON_BODY, STAFF, RATE_LIMITED)
async def post_register(data: RegisterIn) -> Response:
    """Create a reporter account and sign it in (`HELPDESK_REGISTRATIONS_PER_HOUR` per client
    address). With `HELPDESK_REGISTRATION=domains` the email must be a campus address and the
    account may report once the mailed link confirms it; with `off`, 403."""
    user = await sign_up(
        data.username, data.password, display_name=data.display_name, email=data.email
    )
    if not user.email_confirmed:
        await send_address_confirmation(services(), user)
    return json_response({"user": user_ref(user)}, 201)


@blueprint.post("/auth/password-reset")
@tag(["auth"])
@validate_request(PasswordResetIn)
@document_response(Accepted, 202)
@errors(JSON_BODY, RATE_LIMITED)
async def post_password_reset(data: PasswordResetIn) -> Response:
    """Mail a reset link to the account with this username or email address. Always the same
    202, so it tells nobody whether an account exists; limited per client address and per
    account (`HELPDESK_ACCOUNT_MAILS_PER_HOUR`)."""
    await ask_for_password_reset(services(), client_address(), data.login)
    return json_response({"detail": RESET_ASKED}, 202)


@blueprint.post("/auth/password-reset/confirm")
@tag(["auth"])
@validate_request(PasswordResetConfirmIn)
@document_response(NoContent, 204)
@errors(JSON_BODY, NOT_FOUND)
async def post_password_reset_confirm(data: PasswordResetConfirmIn) -> Response:
    """Set a new password with a mailed token (single use, one hour). Every session of the
    account is signed out, its sockets closed; nobody is signed in: sign in with the new one."""
    await services().sessions.reset_password(data.token, data.new_password)
    return Response(status=204)


@blueprint.post("/auth/confirm-address")
@tag(["auth"])
@validate_request(AddressConfirmIn)
@document_response(UserEnvelope, 200)
@errors(JSON_BODY, NOT_FOUND)
async def post_confirm_address(data: AddressConfirmIn) -> Response:
    """Confirm a new account's address with the mailed token: it may report from now on."""
    user = await confirm_address(data.token)
    return json_response({"user": user_ref(user)})


@blueprint.post("/me/confirmation")
@tag(["auth"])
@document_response(Accepted, 202)
@errors(SIGNED_IN, VERSIONED, RATE_LIMITED)
async def post_confirmation() -> Response:
    """Mail another confirmation link to the signed-in account's address (409 once confirmed)."""
    session = await require_session()
    if session.user.email_confirmed:
        raise Conflict("your address is already confirmed")
    await ask_for_address_confirmation(services(), session.user)
    return json_response({"detail": CONFIRMATION_SENT}, 202)


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
