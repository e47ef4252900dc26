"""Who may make their own account: anyone, people with a campus address, or nobody.

With campus domains the account starts unconfirmed: it can sign in and read, but cannot
report or write until the link mailed to the address has proved the address is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from tortoise.transactions import in_transaction

from ..config import Settings
from ..errors import Forbidden, NotFound, ValidationFailed
from ..models import TokenPurpose, User
from . import mailed_tokens
from .accounts import create_user

CONFIRM_LIFETIME = timedelta(days=1)


class RegistrationMode(StrEnum):
    OPEN = "open"
    DOMAINS = "domains"
    OFF = "off"


@dataclass(frozen=True)
class Registration:
    """`HELPDESK_REGISTRATION` and `HELPDESK_REGISTRATION_DOMAINS`."""

    mode: RegistrationMode = RegistrationMode.OPEN
    domains: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Registration:
        return cls(RegistrationMode(settings.registration), settings.registration_domains)

    @property
    def is_open(self) -> bool:
        return self.mode != RegistrationMode.OFF

    def domain_list(self) -> str:
        """The domains in words, for the form's hint and its errors."""
        names = [f"@{domain}" for domain in self.domains]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

    def check(self, email: str | None) -> None:
        """Refuse a sign-up this policy does not allow."""
        if self.mode == RegistrationMode.OFF:
            raise Forbidden("registration is closed; ask the helpdesk for an account")
        if self.mode == RegistrationMode.DOMAINS:
            domain = (email or "").rpartition("@")[2].lower()
            if domain not in self.domains:
                raise ValidationFailed(
                    f"use your campus email address (ending in {self.domain_list()})",
                    field="email",
                )


async def register(
    registration: Registration,
    username: str,
    password: str,
    *,
    display_name: str | None,
    email: str | None,
) -> User:
    """A reporter account made by the person themselves, as the policy allows; unconfirmed
    when its address must be proved first."""
    registration.check(email)
    return await create_user(
        username,
        password,
        display_name=display_name,
        email=email,
        email_confirmed=registration.mode != RegistrationMode.DOMAINS,
    )


def require_confirmed(user: User) -> None:
    """Reporting and writing wait until a self-registered account's address is confirmed."""
    if not user.email_confirmed:
        raise Forbidden(
            "confirm your address first: open the link in the mail we sent you",
            reason="unconfirmed",
        )


async def confirm_address(token: str) -> User:
    """Spend a mailed confirmation token: its account may report and write from now on."""
    async with in_transaction("default") as connection:
        user = await mailed_tokens.spend(token, TokenPurpose.CONFIRM_ADDRESS, connection=connection)
        if user is None:
            raise NotFound("this link is not valid any more")
        user.email_confirmed = True
        await user.save(update_fields=["email_confirmed"], using_db=connection)
    return user
