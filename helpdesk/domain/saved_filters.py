"""Board filters a staff member keeps under a name ("Unassigned wifi", "Dorm B heating")."""

from __future__ import annotations

from typing import Any

from ..errors import NotFound, TooLarge
from ..models import SavedFilter, User
from .access import require_staff
from .fields import in_id_range

MAX_FILTERS = 50


def filter_json(saved: SavedFilter) -> dict[str, Any]:
    return {"id": saved.id, "name": saved.name, "query": saved.query}


async def saved_filters(user: User) -> list[dict[str, Any]]:
    require_staff(user)
    return [
        filter_json(each) for each in await SavedFilter.filter(user_id=user.id).order_by("name")
    ]


async def save_filter(user: User, name: str, query: str) -> tuple[dict[str, Any], bool]:
    """Keep the filter under `name`, replacing one of that name; returns it and whether it is
    new."""
    require_staff(user)
    existing = await SavedFilter.get_or_none(user_id=user.id, name=name)
    if existing is not None:
        existing.query = query
        await existing.save(update_fields=["query"])
        return filter_json(existing), False
    if await SavedFilter.filter(user_id=user.id).count() >= MAX_FILTERS:
        raise TooLarge(f"keep at most {MAX_FILTERS} filters; delete one first", field="name")
    saved = await SavedFilter.create(user_id=user.id, name=name, query=query)
    return filter_json(saved), True


async def delete_filter(user: User, filter_id: int) -> None:
    require_staff(user)
    deleted = (
        in_id_range(filter_id) and await SavedFilter.filter(id=filter_id, user_id=user.id).delete()
    )
    if not deleted:
        raise NotFound("no such saved filter")
