"""Analytics: its own module, servable as its own app against the same database
(`hypercorn "helpdesk.analytics:create_app()"`), so it can be scaled or restricted apart from chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..web.context import HelpdeskApp


def create_app(overrides: Mapping[str, Any] | None = None) -> HelpdeskApp:
    """The analytics pages and API alone: sign-in, /analytics and /api/v1/analytics/*."""
    from .standalone import create_analytics_app

    return create_analytics_app(overrides)
