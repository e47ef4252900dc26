"""Accounts of people who sign in at the university's provider: found by the provider's subject
(never by an email address, which can change or pass to someone else), made at the first sign-in,
and given the staff role by the provider's groups at every sign-in, so leaving the helpdesk's
group takes staff access away."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from tortoise.exceptions import IntegrityError

from ..errors import Forbidden
from ..models import Role, User
from .accounts import hash_password
from .fields import DisplayName, Email

USERNAME_LENGTH = 32
_NOT_IN_USERNAME = re.compile(r"[^a-z0-9._-]+")
_DISPLAY_NAME: TypeAdapter[str] = TypeAdapter(DisplayName)
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)


@dataclass(frozen=True)
class Identity:
    """What the provider vouched for about one person, as the helpdesk reads it."""

    issuer: str
    subject: str
    preferred_username: str
    name: str | None
    email: str | None  # only an address the provider says it verified
    groups: frozenset[str]

    @classmethod
    def from_claims(cls, issuer: str, claims: Mapping[str, Any], groups_claim: str) -> Identity:
        return cls(
            issuer=issuer,
            subject=str(claims["sub"]),
            preferred_username=_text(claims.get("preferred_username")) or "",
            name=_valid(_DISPLAY_NAME, claims.get("name")),
            email=_valid(_EMAIL, claims.get("email"))
            if claims.get("email_verified") is True
            else None,
            groups=groups_of(claims.get(groups_claim)),
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _valid(adapter: TypeAdapter[str], value: object) -> str | None:
    """The claim when it passes the helpdesk's own rule for that field, else nothing."""
    if not isinstance(value, str):
        return None
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def groups_of(value: object) -> frozenset[str]:
    """Providers send a list of names; a single name is taken as a list of one."""
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def username_base(preferred: str) -> str:
    """`Maya.K@campus.example` becomes `maya.k`: the username rules' characters only, with room
    for a suffix that makes it unique."""
    local = preferred.split("@", 1)[0]
    ascii_only = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
    cleaned = _NOT_IN_USERNAME.sub("-", ascii_only.lower()).strip("-._")
    cleaned = cleaned[: USERNAME_LENGTH - 4].rstrip("-._")
    return cleaned if len(cleaned) >= 3 else f"user-{cleaned}".rstrip("-")


def role_for(current: Role | None, groups: frozenset[str], staff_groups: frozenset[str]) -> Role:
    """Staff exactly while in a staff group. Admins are made on the helpdesk itself, not by the
    provider, and stay admins."""
    if current == Role.ADMIN:
        return Role.ADMIN
    return Role.STAFF if groups & staff_groups else Role.USER


def _usernames(base: str) -> Iterator[str]:
    """`base`, `base-2` ... `base-99`, then `base` with a random suffix."""
    yield base
    yield from (f"{base}-{number}" for number in range(2, 100))
    while True:
        yield f"{base[:25]}-{secrets.token_hex(3)}"


async def _create(identity: Identity, role: Role) -> User:
    """A new account under the first free username made from the preferred one. It has no
    password anyone knows: it signs in only through the provider."""
    password_hash = await hash_password(secrets.token_urlsafe(32))
    for username in _usernames(username_base(identity.preferred_username or identity.subject)):
        if await User.exists(username=username):
            continue
        try:
            return await User.create(
                username=username,
                display_name=identity.name or username,
                email=identity.email,
                password_hash=password_hash,
                role=role,
                oidc_issuer=identity.issuer,
                oidc_subject=identity.subject,
            )
        except IntegrityError:
            linked = await _linked(identity)
            if linked is not None:  # the same person's sign-in in another tab made it first
                return linked
    raise AssertionError("unreachable: the usernames never run out")


async def _linked(identity: Identity) -> User | None:
    return await User.get_or_none(oidc_issuer=identity.issuer, oidc_subject=identity.subject)


async def account_for(identity: Identity, staff_groups: frozenset[str]) -> User:
    """The account this person signs in to, made on their first sign-in, its role read anew
    from their groups. A deactivated account stays shut."""
    user = await _linked(identity)
    if user is None:
        return await _create(identity, role_for(None, identity.groups, staff_groups))
    if not user.is_active:
        raise Forbidden("this account has been deactivated")
    role = role_for(user.role, identity.groups, staff_groups)
    if role != user.role:
        user.role = role
        await user.save(update_fields=["role"])
    return user
