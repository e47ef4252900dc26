"""Who may call what: every route of the app's route map, for every kind of caller.

The table is checked against `app.url_map`: a route added without a rule here fails the suite.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from quart.datastructures import FileStorage

from helpdesk.models import Role, User
from tests.conftest import TICKET, create_ticket, make_user, signed_in_client
from tests.uploads import samples

ACTORS = ("anonymous", "deactivated", "reporter", "other", "staff", "admin")
_names = itertools.count()


@pytest.fixture
def database_url(tmp_path, sqlite_template):
    """Authorization does not depend on the database: SQLite only, for speed."""
    from tests.services import sqlite_copy

    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
def app_settings(app_settings):
    """Each route is called by every caller from one address: more than the account-mail
    allowance (its limits have tests of their own)."""
    return {**app_settings, "account_mails_per_hour": 1000}


@dataclass(frozen=True)
class Route:
    """How to call one route, and what each caller must get back."""

    path: str
    expect: dict[str, int]
    body: Callable[[], Any] | None = None
    form: Callable[[], dict[str, str]] | None = None
    json: bool = True


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ACTORS, status)


def signed_in(status: int, *, anonymous: int = 401) -> dict[str, int]:
    return {**everyone(status), "anonymous": anonymous, "deactivated": anonymous}


def staff_only(status: int, *, refused: int = 403, anonymous: int = 401) -> dict[str, int]:
    return {**signed_in(status, anonymous=anonymous), "reporter": refused, "other": refused}


def admin_only(status: int) -> dict[str, int]:
    return {**staff_only(status), "staff": 403}


def admin_page(status: int) -> dict[str, int]:
    """A page under /admin/: the sign-in form for someone signed out, 403 for everyone else."""
    return {**staff_only(status, anonymous=PAGE), "staff": 403}


def reporters_ticket(
    owner: int, *, other: int = 404, staff: int | None = None, anonymous: int = 401
) -> dict[str, int]:
    """A route on the reporter's ticket: another reporter is told it does not exist."""
    staff = owner if staff is None else staff
    return {
        "anonymous": anonymous,
        "deactivated": anonymous,
        "reporter": owner,
        "other": other,
        "staff": staff,
        "admin": staff,
    }


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


PAGE = 302  # a page's answer to someone signed out: the sign-in form
FORGED_TOKEN = "1-" + "a" * 26
ROUTES: dict[tuple[str, str], Route] = {
    # public
    ("GET", "/login"): Route(
        "/login", everyone(200) | dict.fromkeys(("reporter", "other", "staff", "admin"), 302)
    ),
    ("POST", "/login"): Route(
        "/login", everyone(401), form=lambda: {"username": "nobody", "password": "wrong-password"}
    ),
    ("GET", "/register"): Route("/register", everyone(200)),
    # university sign-in is for anyone, and not found where it is not set up (as here): its
    # answers set up are in tests/pages/test_oidc.py
    ("GET", "/login/oidc"): Route("/login/oidc", everyone(404)),
    ("GET", "/login/oidc/callback"): Route("/login/oidc/callback?code=x&state=y", everyone(404)),
    ("POST", "/register"): Route(
        "/register",
        everyone(302),
        form=lambda: {"username": unique("new"), "password": "heater-broken-214"},
    ),
    ("GET", "/docs"): Route("/docs", everyone(200)),
    ("GET", "/docs/assets/<name>"): Route("/docs/assets/swagger-ui.css", everyone(200)),
    ("GET", "/openapi.json"): Route("/openapi.json", everyone(200)),
    ("GET", "/static/<path:filename>"): Route("/static/css/app.css", everyone(200)),
    ("GET", "/api/v1/health"): Route("/api/v1/health", everyone(200)),
    # the signed token is the authority, never the session: a forged one is 404 for everyone
    ("GET", "/unsubscribe/<token>"): Route(f"/unsubscribe/{FORGED_TOKEN}", everyone(404)),
    ("POST", "/unsubscribe/<token>"): Route(
        f"/unsubscribe/{FORGED_TOKEN}",
        everyone(404),
        form=lambda: {"List-Unsubscribe": "One-Click"},
    ),
    ("POST", "/api/v1/auth/login"): Route(
        "/api/v1/auth/login",
        everyone(401),
        body=lambda: {"username": "nobody", "password": "wrong-password"},
    ),
    ("POST", "/api/v1/auth/register"): Route(
        "/api/v1/auth/register",
        everyone(201),
        body=lambda: {"username": unique("api"), "password": "heater-broken-214"},
    ),
    # mailed tokens are the authority: a forged one is 404 whoever asks
    ("POST", "/api/v1/auth/password-reset"): Route(
        "/api/v1/auth/password-reset", everyone(202), body=lambda: {"login": unique("who")}
    ),
    ("POST", "/api/v1/auth/password-reset/confirm"): Route(
        "/api/v1/auth/password-reset/confirm",
        everyone(404),
        body=lambda: {"token": FORGED_TOKEN, "new_password": "a-brand-new-passphrase"},
    ),
    ("GET", "/password-reset"): Route("/password-reset", everyone(200)),
    ("POST", "/password-reset"): Route(
        "/password-reset", everyone(200), form=lambda: {"login": unique("who")}
    ),
    ("GET", "/password-reset/<token>"): Route(f"/password-reset/{FORGED_TOKEN}", everyone(404)),
    ("POST", "/password-reset/<token>"): Route(
        f"/password-reset/{FORGED_TOKEN}",
        everyone(404),
        form=lambda: {"new_password": "a-brand-new-passphrase"},
    ),
    ("GET", "/confirm-address/<token>"): Route(f"/confirm-address/{FORGED_TOKEN}", everyone(404)),
    ("POST", "/confirm-address/<token>"): Route(
        f"/confirm-address/{FORGED_TOKEN}", everyone(404), form=dict
    ),
    # signed out: the sign-in form; confirmed already (everyone here): on to the home page
    ("GET", "/confirm-address"): Route("/confirm-address", everyone(302)),
    ("POST", "/confirm-address"): Route("/confirm-address", everyone(302), form=dict),
    ("POST", "/api/v1/auth/confirm-address"): Route(
        "/api/v1/auth/confirm-address", everyone(404), body=lambda: {"token": FORGED_TOKEN}
    ),
    # any signed-in person
    ("GET", "/"): Route("/", signed_in(200, anonymous=PAGE) | {"staff": 302, "admin": 302}),
    ("GET", "/tickets/new"): Route("/tickets/new", signed_in(200, anonymous=PAGE)),
    ("POST", "/tickets/new"): Route(
        "/tickets/new",
        signed_in(302, anonymous=PAGE),
        form=lambda: {"title": "Broken heater", "description": "Cold", "category": "facilities"},
    ),
    ("GET", "/account/password"): Route("/account/password", signed_in(200, anonymous=PAGE)),
    ("POST", "/account/password"): Route(
        "/account/password",
        signed_in(400, anonymous=PAGE),
        form=lambda: {
            "current_password": "not-it-at-all",
            "new_password": "a-brand-new-passphrase",
        },
    ),
    ("GET", "/account/notifications"): Route(
        "/account/notifications", signed_in(200, anonymous=PAGE)
    ),
    ("POST", "/account/notifications"): Route(
        "/account/notifications", signed_in(200, anonymous=PAGE), form=lambda: {"email": "off"}
    ),
    ("POST", "/logout"): Route("/logout", everyone(302), form=dict),
    ("GET", "/api/v1/me"): Route("/api/v1/me", signed_in(200)),
    ("POST", "/api/v1/me/password"): Route(
        "/api/v1/me/password",
        signed_in(400),
        body=lambda: {
            "current_password": "not-it-at-all",
            "new_password": "a-brand-new-passphrase",
        },
    ),
    ("POST", "/api/v1/auth/logout"): Route("/api/v1/auth/logout", signed_in(204)),
    # every account here is confirmed already
    ("POST", "/api/v1/me/confirmation"): Route("/api/v1/me/confirmation", signed_in(409)),
    ("GET", "/api/v1/me/notifications"): Route("/api/v1/me/notifications", signed_in(200)),
    ("PUT", "/api/v1/me/notifications"): Route(
        "/api/v1/me/notifications", signed_in(200), body=lambda: {"email": "digest"}
    ),
    ("GET", "/api/v1/tickets"): Route("/api/v1/tickets", signed_in(200)),
    ("GET", "/api/v1/tickets/count"): Route("/api/v1/tickets/count", signed_in(200)),
    ("POST", "/api/v1/tickets"): Route("/api/v1/tickets", signed_in(201), body=lambda: TICKET),
    ("GET", "/api/v1/activity"): Route("/api/v1/activity", signed_in(200)),
    # one ticket, reported by "reporter"
    ("GET", "/tickets/<int:ticket_id>"): Route(
        "/tickets/{ticket}", reporters_ticket(200, anonymous=PAGE)
    ),
    ("POST", "/tickets/<int:ticket_id>/edit"): Route(
        "/tickets/{ticket}/edit",
        reporters_ticket(302, anonymous=PAGE),
        form=lambda: {"title": "Edited", "description": "d", "category": "it"},
    ),
    ("POST", "/tickets/<int:ticket_id>/messages"): Route(
        "/tickets/{ticket}/messages",
        reporters_ticket(302, anonymous=PAGE),
        form=lambda: {"body": "Any news?"},
    ),
    ("POST", "/tickets/<int:ticket_id>/status"): Route(
        "/tickets/{ticket}/status",
        reporters_ticket(400, staff=302, anonymous=PAGE),
        form=lambda: {"status": "active"},
    ),
    ("POST", "/tickets/<int:ticket_id>/assign"): Route(
        "/tickets/{ticket}/assign",
        reporters_ticket(400, staff=302, anonymous=PAGE),
        form=lambda: {"assignee_id": ""},
    ),
    # staff's known-issue forms: reporters are refused in words on their ticket's page, and
    # staff too where there is nothing to act on (the ticket is not published; no issue 987654)
    ("POST", "/tickets/<int:ticket_id>/known-issue"): Route(
        "/tickets/{ticket}/known-issue",
        reporters_ticket(400, staff=302, anonymous=PAGE),
        form=lambda: {"public_title": "Library wifi outage"},
    ),
    ("POST", "/tickets/<int:ticket_id>/known-issue/withdraw"): Route(
        "/tickets/{ticket}/known-issue/withdraw", reporters_ticket(400, anonymous=PAGE), form=dict
    ),
    ("POST", "/tickets/<int:ticket_id>/known-issue/updates"): Route(
        "/tickets/{ticket}/known-issue/updates",
        reporters_ticket(400, anonymous=PAGE),
        form=lambda: {"update": "Fixed soon"},
    ),
    ("POST", "/tickets/<int:ticket_id>/merge"): Route(
        "/tickets/{ticket}/merge",
        reporters_ticket(400, anonymous=PAGE),
        form=lambda: {"into": "987654"},
    ),
    ("GET", "/api/v1/tickets/<int:ticket_id>"): Route(
        "/api/v1/tickets/{ticket}", reporters_ticket(200)
    ),
    ("PATCH", "/api/v1/tickets/<int:ticket_id>"): Route(
        "/api/v1/tickets/{ticket}", reporters_ticket(200), body=lambda: {"title": "Edited"}
    ),
    ("POST", "/api/v1/tickets/<int:ticket_id>/status"): Route(
        "/api/v1/tickets/{ticket}/status",
        reporters_ticket(403, staff=200),
        body=lambda: {"status": "active"},
    ),
    ("POST", "/api/v1/tickets/<int:ticket_id>/assign"): Route(
        "/api/v1/tickets/{ticket}/assign",
        reporters_ticket(403, staff=200),
        body=lambda: {"assignee_id": None},
    ),
    ("GET", "/api/v1/tickets/<int:ticket_id>/history"): Route(
        "/api/v1/tickets/{ticket}/history", reporters_ticket(200)
    ),
    ("GET", "/api/v1/tickets/<int:ticket_id>/messages"): Route(
        "/api/v1/tickets/{ticket}/messages", reporters_ticket(200)
    ),
    ("POST", "/api/v1/tickets/<int:ticket_id>/messages"): Route(
        "/api/v1/tickets/{ticket}/messages",
        reporters_ticket(201),
        body=lambda: {"body": "Any news?"},
    ),
    ("GET", "/api/v1/tickets/<int:ticket_id>/reads"): Route(
        "/api/v1/tickets/{ticket}/reads", reporters_ticket(200)
    ),
    ("POST", "/api/v1/tickets/<int:ticket_id>/read"): Route(
        "/api/v1/tickets/{ticket}/read", reporters_ticket(400), body=lambda: {"message_id": 987654}
    ),
    # staff
    ("GET", "/board"): Route("/board", staff_only(200, anonymous=PAGE)),
    ("POST", "/board/filters"): Route(
        "/board/filters",
        staff_only(302, anonymous=PAGE),
        form=lambda: {"name": "Wifi", "query": "q=wifi"},
    ),
    ("POST", "/board/filters/<int:filter_id>/delete"): Route(
        "/board/filters/987654/delete", staff_only(404, anonymous=PAGE), form=dict
    ),
    ("GET", "/analytics"): Route("/analytics", staff_only(200, anonymous=PAGE)),
    ("GET", "/analytics/report"): Route("/analytics/report", staff_only(200, anonymous=PAGE)),
    ("GET", "/analytics/charts/<name>.svg"): Route(
        "/analytics/charts/backlog.svg", staff_only(200, anonymous=PAGE)
    ),
    ("GET", "/api/v1/analytics/summary"): Route("/api/v1/analytics/summary", staff_only(200)),
    ("GET", "/api/v1/analytics/report.csv"): Route("/api/v1/analytics/report.csv", staff_only(200)),
    ("GET", "/api/v1/staff"): Route("/api/v1/staff", staff_only(200)),
    ("GET", "/api/v1/reporters"): Route("/api/v1/reporters", staff_only(200)),
    # admins
    ("POST", "/api/v1/users"): Route(
        "/api/v1/users",
        admin_only(201),
        body=lambda: {
            "username": unique("made"),
            "password": "helpdesk-demo-2026",
            "role": "staff",
        },
    ),
    ("GET", "/api/v1/users"): Route("/api/v1/users?q=oth&role=user", admin_only(200)),
    ("GET", "/api/v1/audit"): Route("/api/v1/audit", admin_only(200)),
    ("PATCH", "/api/v1/users/<int:user_id>"): Route(
        "/api/v1/users/{other_user}", admin_only(200), body=lambda: {"is_active": True}
    ),
    ("GET", "/api/v1/admin/mail"): Route("/api/v1/admin/mail", admin_only(200)),
    ("POST", "/api/v1/admin/mail/<int:mail_id>/retry"): Route(
        "/api/v1/admin/mail/987654/retry", admin_only(404), body=dict
    ),
    ("GET", "/admin/"): Route("/admin/?q=oth&role=user", admin_page(200)),
    ("GET", "/admin/users/new"): Route("/admin/users/new", admin_page(200)),
    ("POST", "/admin/users/new"): Route(
        "/admin/users/new",
        admin_page(302),
        form=lambda: {"username": unique("page"), "password": "helpdesk-demo-2026"},
    ),
    ("GET", "/admin/users/<int:user_id>"): Route("/admin/users/{other_user}", admin_page(200)),
    ("POST", "/admin/users/<int:user_id>/role"): Route(
        "/admin/users/{other_user}/role", admin_page(302), form=lambda: {"role": "user"}
    ),
    ("POST", "/admin/users/<int:user_id>/active"): Route(
        "/admin/users/{other_user}/active", admin_page(302), form=lambda: {"is_active": "yes"}
    ),
    # the other user has no email address for the link: a plain 400 for the admin
    ("POST", "/admin/users/<int:user_id>/password-reset"): Route(
        "/admin/users/{other_user}/password-reset", admin_page(400), form=dict
    ),
    # uploads: a body that is not multipart is refused once the caller may upload there
    ("POST", "/api/v1/attachments"): Route("/api/v1/attachments", signed_in(415), form=dict),
    ("POST", "/api/v1/tickets/<int:ticket_id>/attachments"): Route(
        "/api/v1/tickets/{ticket}/attachments", reporters_ticket(415), form=dict
    ),
    # the reporter's photo, sent in a message on their ticket: sent files stay (409)
    ("GET", "/api/v1/attachments/<int:attachment_id>"): Route(
        "/api/v1/attachments/{attachment}", reporters_ticket(200)
    ),
    ("DELETE", "/api/v1/attachments/<int:attachment_id>"): Route(
        "/api/v1/attachments/{attachment}", reporters_ticket(409)
    ),
    ("GET", "/files/<int:attachment_id>"): Route(
        "/files/{attachment}", reporters_ticket(200, anonymous=PAGE)
    ),
    ("GET", "/files/<int:attachment_id>/thumbnail"): Route(
        "/files/{attachment}/thumbnail", reporters_ticket(200, anonymous=PAGE)
    ),
    # the known issues pages: for everyone signed in (no such issue here: 404)
    ("GET", "/known-issues"): Route("/known-issues", signed_in(200, anonymous=PAGE)),
    ("GET", "/known-issues/<int:issue_id>"): Route(
        "/known-issues/987654", signed_in(404, anonymous=PAGE)
    ),
    ("POST", "/known-issues/<int:issue_id>/affected"): Route(
        "/known-issues/987654/affected", signed_in(404, anonymous=PAGE), form=dict
    ),
    # known issues: publishing and merging are for staff; the public view for everyone
    ("POST", "/api/v1/tickets/<int:ticket_id>/known-issue"): Route(
        "/api/v1/tickets/{ticket}/known-issue",
        staff_only(201),
        body=lambda: {"public_title": "Library wifi outage"},
    ),
    ("DELETE", "/api/v1/tickets/<int:ticket_id>/known-issue"): Route(
        "/api/v1/tickets/{ticket}/known-issue", staff_only(404)
    ),
    ("POST", "/api/v1/tickets/<int:ticket_id>/merge"): Route(
        "/api/v1/tickets/{ticket}/merge", staff_only(404), body=lambda: {"into": 987654}
    ),
    ("GET", "/api/v1/known-issues"): Route("/api/v1/known-issues", signed_in(200)),
    ("POST", "/api/v1/tickets/bulk"): Route(
        "/api/v1/tickets/bulk",
        staff_only(200),
        body=lambda: {"ids": [987654], "action": "assign", "assignee_id": None},
    ),
    ("GET", "/api/v1/tickets/<int:ticket_id>/duplicates"): Route(
        "/api/v1/tickets/{ticket}/duplicates", staff_only(200)
    ),
    ("GET", "/api/v1/me/filters"): Route("/api/v1/me/filters", staff_only(200)),
    ("POST", "/api/v1/me/filters"): Route(
        "/api/v1/me/filters", staff_only(201), body=lambda: {"name": "Open", "query": "status=open"}
    ),
    ("DELETE", "/api/v1/me/filters/<int:filter_id>"): Route(
        "/api/v1/me/filters/987654", staff_only(404)
    ),
    ("GET", "/api/v1/known-issues/<int:issue_id>"): Route(
        "/api/v1/known-issues/987654", signed_in(404)
    ),
    ("POST", "/api/v1/known-issues/<int:issue_id>/affected"): Route(
        "/api/v1/known-issues/987654/affected", signed_in(404)
    ),
    ("DELETE", "/api/v1/known-issues/<int:issue_id>/affected"): Route(
        "/api/v1/known-issues/987654/affected", signed_in(404)
    ),
    ("POST", "/api/v1/known-issues/<int:issue_id>/updates"): Route(
        "/api/v1/known-issues/987654/updates", staff_only(404), body=lambda: {"body": "Fixed soon"}
    ),
    ("GET", "/admin/audit"): Route("/admin/audit", admin_page(200)),
    ("GET", "/admin/settings"): Route("/admin/settings", admin_page(200)),
    ("GET", "/admin/mail"): Route("/admin/mail", staff_only(200, anonymous=PAGE) | {"staff": 403}),
    ("POST", "/admin/mail/<int:mail_id>/retry"): Route(
        "/admin/mail/987654/retry", staff_only(404, anonymous=PAGE) | {"staff": 403}, form=dict
    ),
}
SOCKET_ROUTES = {"/ws"}  # covered, room by room and op by op, in test_socket_matrix.py


def test_every_route_has_a_rule(app):
    served = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if not rule.websocket
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    sockets = {rule.rule for rule in app.url_map.iter_rules() if rule.websocket}
    assert served - set(ROUTES) == set(), "routes without an authorization rule"
    assert set(ROUTES) - served == set(), "rules for routes that no longer exist"
    assert sockets == SOCKET_ROUTES


async def callers(app, *, with_attachment: bool = False) -> dict[str, Any]:
    """A fresh cast per route: each caller's client, the reporter's ticket, another user, and
    where the route needs one, a photo the reporter sent on that ticket."""
    users = {
        "reporter": await make_user(unique("rep")),
        "other": await make_user(unique("oth")),
        "staff": await make_user(unique("stf"), Role.STAFF),
        "admin": await make_user(unique("adm"), Role.ADMIN),
        "deactivated": await make_user(unique("gone")),
    }
    clients = {name: await signed_in_client(app, user) for name, user in users.items()}
    clients["anonymous"] = await signed_in_client(app, None)
    # Deactivated after signing in, without the sessions being revoked: the cookie must still fail.
    await User.filter(id=users["deactivated"].id).update(is_active=False)
    ticket = await create_ticket(clients["reporter"])
    attachment = None
    if with_attachment:
        attachment = await sent_photo(clients["reporter"], ticket["id"])
    return {
        "clients": clients,
        "ticket": ticket["id"],
        "other_user": users["other"].id,
        "attachment": attachment,
    }


def path_of(route: Route, cast: dict[str, Any]) -> str:
    """The route's path for this cast: its ticket, its other user, its photo."""
    return route.path.format(
        ticket=cast["ticket"], other_user=cast["other_user"], attachment=cast["attachment"]
    )


async def sent_photo(client: Any, ticket_id: int) -> int:
    upload = await client.post(
        f"/api/v1/tickets/{ticket_id}/attachments",
        files={"file": FileStorage(io.BytesIO(samples.png_with_text()), filename="photo.png")},
    )
    photo = (await upload.get_json())["id"]
    sent = await client.post(
        f"/api/v1/tickets/{ticket_id}/messages", json={"attachment_ids": [photo]}
    )
    assert sent.status_code == 201
    return photo


@pytest.mark.parametrize(("method", "rule"), sorted(ROUTES), ids=lambda v: str(v))
async def test_route_answers_each_caller_as_the_rule_says(app, method, rule):
    route = ROUTES[(method, rule)]
    answers = {}
    for actor in ACTORS:
        cast = await callers(app, with_attachment="{attachment}" in route.path)
        path = path_of(route, cast)
        client = cast["clients"][actor]
        options: dict[str, Any] = {}
        if route.body is not None:
            options["json"] = route.body()
        if route.form is not None:
            options["form"] = route.form()
        response = await client.open(path, method=method, **options)
        answers[actor] = response.status_code
    assert answers == route.expect
