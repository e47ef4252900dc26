"""Constrained input types: each field's limits, defined once for the API, pages and socket."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, Strict, StringConstraints

from ..models import Category, Priority, Role, Status

MAX_ID = 2**63 - 1  # ids, cursors and `since` beyond this would overflow the database's integers


def in_id_range(value: int) -> bool:
    return 1 <= value <= MAX_ID


def _normalize_username(value: object) -> object:
    """Usernames are case-insensitive: `Maya.K` signs up as `maya.k`."""
    return value.strip().lower() if isinstance(value, str) else value


Username = Annotated[
    str,
    BeforeValidator(_normalize_username),
    StringConstraints(pattern=r"^[a-z0-9._-]{3,32}$"),
    Field(description="3-32 characters of a-z, 0-9, '.', '_' and '-'"),
]
Password = Annotated[str, Field(min_length=1, max_length=256)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
]
Location = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1_000)]
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# In JSON bodies numbers and booleans must be JSON numbers and booleans: "5" or "yes" is an error.
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Flag = Annotated[bool, Strict()]
# Query strings are text by nature, so their numbers are parsed from it.
Cursor = Annotated[int, Field(ge=0, le=MAX_ID)]
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]

__all__ = [
    "MAX_ID",
    "Body",
    "Category",
    "ClientId",
    "Cursor",
    "Description",
    "DisplayName",
    "Email",
    "Flag",
    "Id",
    "Location",
    "Note",
    "Password",
    "Priority",
    "QueryId",
    "Role",
    "Status",
    "Title",
    "Username",
    "Version",
    "in_id_range",
]
