"""Constrained input types: each field's limits, defined once for the API, pages and socket."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

from ..models import Category, Priority, Role, Status

# Rows have 32-bit ids; event ids are 64-bit. Anything larger is refused before the database
# sees it (PostgreSQL would reject it, SQLite overflow).
MAX_ID = 2**31 - 1
MAX_EVENT_ID = 2**63 - 1


def in_id_range(value: int) -> bool:
    return 1 <= value <= MAX_ID


def _no_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL, and no person types one: refuse it up front."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = AfterValidator(_no_nul)

# The bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): each
# reorders the text after it, so a title or name shows as something other than what it says.
REORDERING_CONTROLS = frozenset(
    chr(point) for point in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
)
# Controls, format characters (zero-width spaces and joiners, bidi marks and the controls
# above, soft hyphens, tags), lone surrogates and line or paragraph separators: none draws
# anything a reader would see.
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Letters that draw nothing, which pass for a blank or pad one name into another.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def _named(character: str) -> str:
    code = f"U+{ord(character):04X}"
    name = unicodedata.name(character, "")
    return f"{code} {name}" if name else f"{code}, a control character"


def _shown_as_typed(value: str) -> str:
    """A person's name must look like what it is: another account's name with a zero-width
    space or a right-to-left override in it would pass for theirs."""
    for character in value:
        if unicodedata.category(character) in _UNSEEN_CATEGORIES or character in _BLANK_LETTERS:
            raise PydanticCustomError(
                "invisible_character",
                "Contains an invisible, control or text-direction character ({character}): "
                "remove it",
                {"character": _named(character)},
            )
    return value


def _one_line_in_order(value: str) -> str:
    """A title or location is one line shown among others (board cards, lists, toasts): no
    control characters, and none that reorders the text after it. Bidi marks and zero-width
    joiners stay: mixed Arabic or Hebrew and Latin text, and emoji, need them."""
    for character in value:
        if unicodedata.category(character) == "Cc" or character in REORDERING_CONTROLS:
            raise PydanticCustomError(
                "disordering_character",
                "Contains a control or text-direction character ({character}): remove it",
                {"character": _named(character)},
            )
    return value


ShownAsTyped = AfterValidator(_shown_as_typed)
OneLineInOrder = AfterValidator(_one_line_in_order)


def _normalize_username(value: object) -> object:
    """Usernames are case-insensitive: `Maya.K` signs up as `maya.k`."""
    return value.strip().lower() if isinstance(value, str) else value


Username = Annotated[
    str,
    BeforeValidator(_normalize_username),
    StringConstraints(pattern=r"^[a-z0-9._-]{3,32}$"),
    Field(description="3-32 characters of a-z, 0-9, '.', '_' and '-'"),
]
Password = Annotated[str, Field(min_length=1, max_length=256), Text]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), ShownAsTyped
]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    Text,
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLineInOrder
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000), Text
]
Location = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), OneLineInOrder]
Body = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000), Text
]
# A message's text may be left out when it carries files (a screenshot says it all).
MessageText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5_000), Text]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1_000), Text]
# What the helpdesk tells everyone on campus about a known issue.
PublicNote = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000), Text
]
ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64), Text]
# In JSON bodies numbers and booleans must be JSON numbers and booleans: "5" or "yes" is an error.
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Flag = Annotated[bool, Strict()]
AttachmentIds = Annotated[
    list[Id],
    Field(max_length=50, description="uploads (POST .../attachments) that this belongs to"),
]
# Query strings are text by nature, so their numbers are parsed from it.
Cursor = Annotated[int, Field(ge=0, le=MAX_ID)]
QueryId = Annotated[int, Field(ge=1, le=MAX_ID)]
SearchText = Annotated[str, Field(max_length=200), Text]
# A position in the event log.
EventCursor = Annotated[int, Field(ge=0, le=MAX_EVENT_ID)]

__all__ = [
    "MAX_ID",
    "REORDERING_CONTROLS",
    "AttachmentIds",
    "Body",
    "Category",
    "ClientId",
    "Cursor",
    "Description",
    "DisplayName",
    "Email",
    "EventCursor",
    "Flag",
    "Id",
    "Location",
    "MessageText",
    "Note",
    "OneLineInOrder",
    "Password",
    "Priority",
    "PublicNote",
    "QueryId",
    "Role",
    "SearchText",
    "Status",
    "Text",
    "Title",
    "Username",
    "Version",
    "in_id_range",
]
