"""The stand-alone analytics app: the same sessions and database, no socket and no ticket writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..api.openapi import hide_everything_but_the_api
from ..app import base_app
from ..config import load_settings
from ..pages import account, auth
from ..web.context import HelpdeskApp
from .blueprint import blueprint


def create_analytics_app(overrides: Mapping[str, Any] | None = None) -> HelpdeskApp:
    app = base_app(load_settings(overrides=overrides), home="analytics.page", live_socket=False)
    for module in (auth, account):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(blueprint)
    hide_everything_but_the_api(app)
    return app
