"""Server-rendered pages: they work without JavaScript; static/js makes them live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quart import Quart

from ..domain.labels import page_texts
from ..web.sessions import current_account
from . import account, admin, auth, board, docs, files, known_issues, oidc, tickets, unsubscribe


def register_pages(app: Quart) -> None:
    pages = (auth, oidc, account, unsubscribe, tickets, known_issues, board, docs, admin, files)
    for module in pages:
        app.register_blueprint(module.blueprint)


NAV = [
    # (endpoint, label, for staff or for reporters)
    ("board.board", "Board", "staff"),
    ("analytics.page", "Analytics", "staff"),
    ("known_issues.list_page", "Known issues", "staff"),
    ("tickets.dashboard", "My tickets", "reporter"),
    ("known_issues.list_page", "Known issues", "reporter"),
]


def human_duration(seconds: float | None) -> str:
    """'45 min', '3 h 20 min', '2 d 4 h'; a dash when there is nothing to measure."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def register_page_helpers(app: Quart) -> None:
    """Filters and context every page template uses, whichever blueprints this app serves."""

    @app.template_filter("when")
    def when(iso: str | None) -> str:
        """A readable UTC time for pages without JavaScript (scripts show local, relative time)."""
        if not iso:
            return ""
        return datetime.fromisoformat(iso).strftime("%d %b %Y, %H:%M UTC")

    @app.template_filter("duration")
    def duration(seconds: float | None) -> str:
        return human_duration(seconds)

    @app.context_processor
    async def inject_account() -> dict[str, Any]:
        account = await current_account()
        endpoints = app.view_functions
        nav = [
            (endpoint, label)
            for endpoint, label, who in NAV
            if endpoint in endpoints
            and account is not None
            and (who == "staff") == account.is_staff
        ]
        return {
            "account": account,
            "nav": nav,
            "can_report": "tickets.new_ticket" in endpoints,
            "live_socket": app.config["LIVE_SOCKET"],
            "page_texts": page_texts(),
        }
