"""How a person wants to hear about their tickets by mail: the one place that choice changes."""

from __future__ import annotations

from enum import StrEnum

from ..errors import NotFound, ValidationFailed
from ..models import User


class EmailPreference(StrEnum):
    IMMEDIATE = "immediate"  # a mail per ticket soon after an update they have not seen
    DIGEST = "digest"  # one mail a day with everything not seen
    OFF = "off"  # no mail at all


def email_preference(user: User) -> EmailPreference:
    return EmailPreference(user.email_notifications)


async def set_email_preference(user: User, choice: str) -> EmailPreference:
    """Store `choice` for `user`; anything but the three choices is refused, naming the field."""
    try:
        preference = EmailPreference(choice)
    except ValueError:
        allowed = ", ".join(member.value for member in EmailPreference)
        raise ValidationFailed(f"email must be one of {allowed}", field="email") from None
    await User.filter(id=user.id).update(email_notifications=preference.value)
    user.email_notifications = preference.value
    return preference


async def subscriber(user_id: int) -> User:
    """The account an unsubscribe link names (its token is checked by the caller)."""
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise NotFound("no such account")
    return user


async def stop_mail(user_id: int) -> User:
    """Turn off all mail for `user_id`: what a one-click unsubscribe does, without a session."""
    user = await subscriber(user_id)
    await set_email_preference(user, EmailPreference.OFF)
    return user
