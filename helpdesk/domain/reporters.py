"""The reporter a staff member logs a call for: by name as they type, by username on submit."""

from __future__ import annotations

from tortoise.expressions import Q

from ..models import Role, User
from .access import require_staff

SUGGESTED = 10


async def find_reporters(user: User, text: str | None, limit: int = SUGGESTED) -> list[User]:
    """Active reporter accounts whose username or name contains `text`, ignoring case (staff only:
    the list names students)."""
    require_staff(user)
    query = User.filter(role=Role.USER, is_active=True)
    words = (text or "").strip()
    if not words:
        return await query.order_by("display_name", "id").limit(limit)
    # The account whose username it is comes first: a short username is part of many names.
    exact = await query.filter(username=words.lower()).first()
    found = [exact] if exact else []
    matching = query.filter(Q(username__icontains=words) | Q(display_name__icontains=words))
    if exact:
        matching = matching.exclude(id=exact.id)
    return found + await matching.order_by("display_name", "id").limit(limit - len(found))


async def reporter_named(user: User, username: str) -> User | None:
    """The active reporter account with this username, for a form that names one (staff only)."""
    require_staff(user)
    return await User.get_or_none(username=username.strip().lower(), role=Role.USER, is_active=True)
