"""The app object with its services typed, for the blueprints that use them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from quart import Quart, Response, current_app

from ..encoding import dumps

if TYPE_CHECKING:
    from ..allowances import Allowances
    from ..analytics.service import Analytics
    from ..broker import Broker
    from ..config import Settings
    from ..consumers import Runner
    from ..domain.accounts import Sessions
    from ..domain.attachments import Uploads
    from ..domain.events import EventLog
    from ..domain.message_writer import MessageWriter
    from ..live.hub import Hub
    from ..live.presence import PresenceStore


class HelpdeskApp(Quart):
    settings: Settings
    broker: Broker
    hub: Hub
    presence: PresenceStore
    event_log: EventLog
    message_writer: MessageWriter
    allowances: Allowances
    sessions: Sessions
    analytics: Analytics
    uploads: Uploads  # attachments: storage, limits, the threads that make images safe
    consumers: Runner  # the event-log consumers (mail notifications), under one lease
    mail_sender: Runner  # sends the outbox, under a lease of its own


def services() -> HelpdeskApp:
    return cast(HelpdeskApp, current_app)


def json_response(body: Any, status: int = 200) -> Response:
    """JSON through orjson: the API's hot lists encode several times faster than stdlib json."""
    return Response(dumps(body), status=status, content_type="application/json")
