"""Campus Helpdesk: a real-time helpdesk for a university campus."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .web.context import HelpdeskApp


def create_app(overrides: Mapping[str, Any] | None = None) -> HelpdeskApp:
    """The whole helpdesk (see `helpdesk.app.create_app`); imported on call, so that importing
    a small module such as `helpdesk.db` does not load the web app."""
    from .app import create_app as build

    return build(overrides)


__all__ = ["create_app"]
