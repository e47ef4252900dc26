"""The JSON API under /api/v1: one blueprint per resource."""

from __future__ import annotations

from quart import Quart

from . import (
    accounts,
    activity,
    admin_mail,
    attachments,
    auth,
    health,
    known_issues,
    messages,
    notifications,
    reporters,
    saved_filters,
    tickets,
)

API_PREFIX = "/api/v1"


def register_api(app: Quart) -> None:
    for module in (
        auth,
        notifications,
        accounts,
        admin_mail,
        reporters,
        tickets,
        known_issues,
        saved_filters,
        attachments,
        messages,
        activity,
        health,
    ):
        app.register_blueprint(module.blueprint, url_prefix=API_PREFIX)
