"""One-click unsubscribe from a mail's `List-Unsubscribe` link (RFC 8058), without a session.

The signed token in the address is the only authority: mail providers POST to it from their
servers, with no cookie and no Origin. A GET (a person clicking the link, or a scanner
following it) only shows a button; nothing changes until that POST.
"""

from __future__ import annotations

from quart import Blueprint, Response, render_template, request
from quart.typing import ResponseReturnValue

from ..domain.notifications import EmailPreference, email_preference, stop_mail, subscriber
from ..errors import NotFound
from ..mail.tokens import parse_unsubscribe_token
from ..web.context import services

blueprint = Blueprint("unsubscribe", __name__)


def _subscriber_id(token: str) -> int:
    user_id = parse_unsubscribe_token(services().settings.secret_key, token)
    if user_id is None:
        raise NotFound("this unsubscribe link is not valid")
    return user_id


async def _page(token: str, *, done: bool, already_off: bool = False) -> str:
    return await render_template(
        "account/unsubscribe.html", token=token, done=done, already_off=already_off
    )


@blueprint.get("/unsubscribe/<token>")
async def confirm(token: str) -> ResponseReturnValue:
    user = await subscriber(_subscriber_id(token))
    return await _page(token, done=False, already_off=email_preference(user) is EmailPreference.OFF)


@blueprint.post("/unsubscribe/<token>")
async def unsubscribe(token: str) -> ResponseReturnValue:
    """Mail providers get plain text; a person who pressed the page's button, the page."""
    await stop_mail(_subscriber_id(token))
    if request.accept_mimetypes.best_match(["text/plain", "text/html"]) == "text/html":
        return await _page(token, done=True)
    return Response("You will get no more mail from the helpdesk.\n", content_type="text/plain")
