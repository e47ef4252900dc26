"""Server-rendered pages: they work without JavaScript; static/js makes them live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quart import Quart

from ..web.sessions import current_account
from . import account, auth, board, docs, tickets


def register_pages(app: Quart) -> None:
    for module in (auth, account, tickets, board, docs):
        app.register_blueprint(module.blueprint)

    @app.template_filter("when")
    def when(iso: str | None) -> str:
        """A readable UTC time for pages without JavaScript (scripts show local, relative time)."""
        if not iso:
            return ""
        return datetime.fromisoformat(iso).strftime("%d %b %Y, %H:%M UTC")

    @app.context_processor
    async def inject_account() -> dict[str, Any]:
        return {"account": await current_account()}
