"""Accounts for staff and admins: the staff list for assignment; finding, creating and changing
users; the audit log of those changes."""

from __future__ import annotations

from quart import Blueprint, Response
from quart_schema import document_response, tag, validate_querystring, validate_request

from ..domain.access import require_staff
from ..domain.accounts import active_staff, create_user
from ..domain.audit import audit_json, audit_page
from ..domain.serialize import user_ref
from ..domain.users import account, account_json, find_users
from ..schemas import AuditQuery, NewUserIn, UserOut, UserPatchIn, UsersQuery
from ..web.acting import acting
from ..web.context import json_response, services
from ..web.sessions import require_account
from .openapi import JSON_BODY, NOT_FOUND, QUERY, SIGNED_IN, STAFF, VERSIONED, errors
from .schemas import AccountOut, AccountPageOut, AuditPageOut, StaffOut

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


@blueprint.get("/users")
@tag(["accounts"])
@validate_querystring(UsersQuery)
@document_response(AccountPageOut, 200)
@errors(QUERY, SIGNED_IN, STAFF)
async def get_users(query_args: UsersQuery) -> Response:
    """Admins find accounts, newest first: `q` in the username, display name or email address,
    `role` one role only. Follow `next_cursor` for more."""
    page = await find_users(
        await require_account(),
        q=query_args.q.strip() if query_args.q else None,
        role=query_args.role,
        cursor=query_args.cursor,
        limit=query_args.limit,
    )
    return json_response(
        {"items": [account_json(user) for user in page.items], "next_cursor": page.next_cursor}
    )


@blueprint.post("/users")
@tag(["accounts"])
@validate_request(NewUserIn)
@document_response(UserOut, 201)
@errors(JSON_BODY, SIGNED_IN, STAFF)
async def post_user(data: NewUserIn) -> Response:
    """Admins create accounts of any role (written to the audit log)."""
    user = await create_user(
        data.username,
        data.password,
        display_name=data.display_name,
        email=data.email,
        role=data.role,
        by=await acting(),
    )
    return json_response(user_ref(user), 201)


@blueprint.patch("/users/<int:user_id>")
@tag(["accounts"])
@validate_request(UserPatchIn)
@document_response(AccountOut, 200)
@errors(JSON_BODY, SIGNED_IN, STAFF, NOT_FOUND, VERSIONED)
async def patch_user(user_id: int, data: UserPatchIn) -> Response:
    """Admins change a role (open sockets reconnect with it) or deactivate (signing the person
    out everywhere) and reactivate. Nobody demotes or deactivates themselves (400), and the
    last admin stays one (409)."""
    actor = await acting()
    sessions = services().sessions
    user = await account(actor.user, user_id)
    if data.role is not None:
        user = await sessions.set_role(actor, user_id, data.role)
    if data.is_active is not None:
        user = await sessions.set_active(actor, user_id, data.is_active)
    return json_response(account_json(user))


@blueprint.get("/audit")
@tag(["accounts"])
@validate_querystring(AuditQuery)
@document_response(AuditPageOut, 200)
@errors(QUERY, SIGNED_IN, STAFF)
async def get_audit(query_args: AuditQuery) -> Response:
    """What admins did (accounts made, roles changed, deactivations, password resets sent, mail
    sent again), newest first. Follow `next_cursor` for more."""
    page = await audit_page(
        await require_account(), cursor=query_args.cursor, limit=query_args.limit
    )
    return json_response(
        {"items": [audit_json(entry) for entry in page.items], "next_cursor": page.next_cursor}
    )
