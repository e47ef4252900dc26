"""The app factory: settings, extensions, blueprints, the serving lifecycle; nothing at import."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from hypercorn.middleware import ProxyFixMiddleware
from quart import request
from quart_auth import QuartAuth
from quart_schema import Info, QuartSchema

from . import db
from .allowances import Allowances
from .analytics.blueprint import blueprint as analytics_blueprint
from .analytics.service import Analytics
from .api import register_api
from .api.openapi import HelpdeskOpenAPI, hide_everything_but_the_api
from .assets import asset_dir
from .broker import create_broker
from .broker.redis import RedisBroker
from .config import Settings, load_settings
from .consumers import Runner
from .consumers.known_issues import FanOutSender, KnownIssueNews
from .domain.accounts import SESSION_LIFETIME, Sessions
from .domain.attachments import UploadLimits, Uploads, UploadSweep
from .domain.events import EventLog, LoggedEvent
from .domain.message_writer import MessageWriter
from .errors import Forbidden
from .live import compression, failure, socket
from .live.connection import CloseCode
from .live.hub import Hub
from .live.presence import LocalPresence, RedisPresence
from .mail.notifier import Notifier
from .mail.sender import MailSender, transport_for
from .pages import register_page_helpers, register_pages
from .storage import create_storage
from .web.caching import forbid_storing_private_answers
from .web.context import HelpdeskApp
from .web.errors import register_error_handlers
from .web.hosts import RefuseUnusableHosts
from .web.requests import HelpdeskRequest
from .web.security import SAFE_METHODS, is_cross_site, security_headers
from .web.sessions import NoClientSession, SessionUser

MAX_BODY_BYTES = 256 * 1024


def create_app(overrides: Mapping[str, Any] | None = None) -> HelpdeskApp:
    """Build the helpdesk from `HELPDESK_*` variables; `overrides` (setting names) win over them."""
    app = base_app(load_settings(overrides=overrides), home="tickets.dashboard")
    compression.install(app.settings.ws_max_frame_bytes)
    failure.install()
    register_api(app)
    register_pages(app)
    app.register_blueprint(socket.blueprint)
    app.register_blueprint(analytics_blueprint)
    app.config["PUSH_ANALYTICS"] = True
    hide_everything_but_the_api(app)
    return app


def base_app(settings: Settings, *, home: str, live_socket: bool = True) -> HelpdeskApp:
    """What every helpdesk app shares: settings, sessions, the database, the broker and hub,
    errors, cross-site defences. `home` is the endpoint people land on after signing in."""
    app = HelpdeskApp(
        __name__,
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
        instance_path=str(settings.instance_path),
    )
    # An upload's body: the files of one message, and room for the form's other fields.
    app.request_class = HelpdeskRequest.for_uploads((settings.message_upload_mb + 1) * 1024 * 1024)
    app.session_interface = NoClientSession()
    app.settings = settings
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        QUART_AUTH_COOKIE_NAME="helpdesk_session",
        QUART_AUTH_COOKIE_SECURE=settings.cookie_secure,
        QUART_AUTH_COOKIE_SAMESITE="Lax",
        QUART_AUTH_COOKIE_HTTP_ONLY=True,
        QUART_AUTH_DURATION=int(SESSION_LIFETIME.total_seconds()),
        HOME_ENDPOINT=home,
        LIVE_SOCKET=live_socket,
        **settings.extra,
    )

    QuartAuth(app, user_class=SessionUser)
    QuartSchema(
        app,
        info=Info(title="Campus Helpdesk API", version="1"),
        openapi_provider_class=HelpdeskOpenAPI,
        security=[{"session": []}],
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
    )
    app.allowances = Allowances.build(
        settings.broker_url,
        settings.namespace,
        login_max_failures=settings.login_max_failures,
        login_window_seconds=settings.login_window_seconds,
        registrations_per_hour=settings.registrations_per_hour,
        chat_messages=settings.chat_messages,
        chat_window_seconds=settings.chat_window_seconds,
        reports_per_hour=settings.reports_per_hour,
        account_mails_per_hour=settings.account_mails_per_hour,
        uploads_per_hour=settings.uploads_per_hour,
    )

    app.broker = create_broker(settings.broker_url, settings.namespace)
    app.hub = Hub(app.broker)
    app.presence = (
        RedisPresence(app.broker.client, app.broker.key("presence"))
        if isinstance(app.broker, RedisBroker)
        else LocalPresence()
    )
    app.event_log = EventLog(app.hub.publish_events, app.hub.broadcast)
    app.message_writer = MessageWriter(app.event_log)
    app.sessions = Sessions(app.allowances.login, app.allowances.password_check, app.hub.disconnect)
    app.analytics = Analytics(app.hub, app.broker, settings.analytics_interval_seconds)
    app.uploads = Uploads(
        create_storage(settings.storage_url, settings.instance_path),
        app.allowances.upload,
        UploadLimits.megabytes(
            settings.max_upload_mb, settings.message_upload_mb, settings.attachments_per_message
        ),
    )

    register_error_handlers(app)
    register_page_helpers(app)
    app.asgi_app = RefuseUnusableHosts(app.asgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxy_hops:
        # Behind a reverse proxy: the client's address and scheme come from its headers.
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
            app.asgi_app, mode="legacy", trusted_hops=settings.trusted_proxy_hops
        )

    @app.before_request
    async def refuse_cross_site_writes() -> None:
        """CSRF defence: a write whose Origin (or Referer) is another site's is refused."""
        if request.method not in SAFE_METHODS and is_cross_site(
            request.headers, request.scheme, settings.allowed_origins
        ):
            raise Forbidden("cross-site request refused")

    app.after_request(security_headers(over_tls=settings.cookie_secure))
    app.after_request(forbid_storing_private_answers)

    @app.before_serving
    async def start_services() -> None:
        await db.open_database(settings, create_schema=settings.create_schema)
        await app.broker.connect()
        await app.hub.start()
        await app.uploads.start()
        if app.config.get("PUSH_ANALYTICS"):
            await app.analytics.start()
        app.mail_sender, app.consumers = consumer_runners(app)
        await app.mail_sender.start()
        await app.consumers.start()

    @app.after_serving
    async def stop_services() -> None:
        await app.consumers.stop()
        await app.mail_sender.stop()
        await app.analytics.stop()
        await close_sockets(app)
        await app.hub.stop()
        await app.uploads.close()
        await app.presence.close()
        await app.broker.disconnect()
        await db.close_database()

    return app


def consumer_runners(app: HelpdeskApp) -> tuple[Runner, Runner]:
    """The mail sender and the event-log consumers, woken when this process writes events."""
    settings = app.settings
    timing = {
        "poll_seconds": settings.consumer_poll_seconds,
        "lease_seconds": settings.consumer_lease_seconds,
    }
    sender = Runner(app.broker, "mail-sender", [MailSender(transport_for(settings))], **timing)

    async def watching(room: str) -> set[int]:
        return {viewer["id"] for viewer in await app.presence.viewers(room)}

    notifier = Notifier(settings, watching, mailed=sender.wake)
    work = [notifier, KnownIssueNews(), FanOutSender(app.event_log), UploadSweep(app.uploads)]
    consumers = Runner(app.broker, "consumers", work, **timing)

    async def publish_and_wake(events: list[LoggedEvent], *, tickets_changed: bool) -> None:
        await app.hub.publish_events(events, tickets_changed=tickets_changed)
        consumers.wake()

    app.event_log.connect(publish_and_wake)
    return sender, consumers


async def close_sockets(app: HelpdeskApp, grace_seconds: float = 2.0) -> None:
    """Close every socket with 1001 (going away) and give them a moment to send it."""
    app.hub.close_all(CloseCode.GOING_AWAY, "server shutting down")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(app.hub.emptied.wait(), grace_seconds)
