"""Accounts for staff and admins: the staff list for assignment, creating and deactivating users."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_request

from ..domain.access import require_staff
from ..domain.accounts import active_staff, create_user
from ..domain.serialize import user_ref
from ..errors import Forbidden
from ..models import Role
from ..schemas import NewUserIn, UserActiveIn, UserOut
from ..web.context import json_response, services
from ..web.sessions import require_account
from .openapi import JSON_BODY, NOT_FOUND, SIGNED_IN, STAFF, errors
from .schemas import AccountOut, StaffOut

blueprint = Blueprint("api_accounts", __name__)


@blueprint.get("/staff")
@tag(["accounts"])
@document_response(StaffOut, 200)
@errors(SIGNED_IN, STAFF)
async def get_staff() -> Response:
    """Active staff members, for the assignee picker."""
    require_staff(await require_account())
    staff = await active_staff()
    return json_response({"items": [user_ref(user) for user in staff]})


@blueprint.post("/users")
@tag(["accounts"])
@validate_request(NewUserIn)
@document_response(UserOut, 201)
@errors(JSON_BODY, SIGNED_IN, STAFF)
async def post_user(data: NewUserIn) -> Response:
    """Admins create accounts of any role."""
    admin = await require_account()
    if admin.role != Role.ADMIN:
        raise Forbidden("only admins manage accounts")
    user = await create_user(
        data.username,
        data.password,
        display_name=data.display_name,
        email=data.email,
        role=data.role,
    )
    return json_response(user_ref(user), 201)


@blueprint.patch("/users/<int:user_id>")
@tag(["accounts"])
@validate_request(UserActiveIn)
@document_response(AccountOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF, NOT_FOUND)
async def patch_user(user_id: int, data: UserActiveIn) -> Response:
    """Admins deactivate (or reactivate) accounts; deactivation closes the user's sockets."""
    user = await services().sessions.set_active(await require_account(), user_id, data.is_active)
    return json_response({**user_ref(user), "is_active": user.is_active})
