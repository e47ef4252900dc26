"""Pages for admins, under /admin/."""

from __future__ import annotations

from quart import Blueprint, redirect, render_template, request, url_for
from quart.typing import ResponseReturnValue

from ..errors import HelpdeskError
from ..mail.review import require_admin, send_again, troubled_mail
from ..web.acting import acting
from ..web.sessions import require_account
from .forms import FieldErrors, error_for_form

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


async def _mail_page(errors: FieldErrors, failed_id: int | None = None) -> str:
    mails = await troubled_mail(await require_account())
    return await render_template("admin/mail.html", mails=mails, errors=errors, failed_id=failed_id)


@blueprint.get("/mail")
async def mail() -> ResponseReturnValue:
    return await _mail_page({})


@blueprint.post("/mail/<int:mail_id>/retry")
async def retry(mail_id: int) -> ResponseReturnValue:
    actor = await acting()
    require_admin(actor.user)
    form = await request.form
    try:
        await send_again(actor, mail_id, not_delivered=form.get("not_delivered") == "yes")
    except HelpdeskError as error:
        return await _mail_page(error_for_form(error), mail_id), error.status
    return redirect(url_for("admin.mail", sent_again=mail_id))
