"""A page's ticket filters from its address, as the tickets API reads them."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from ..schemas import TicketQuery
from .forms import FieldErrors, parse_form

FILTER_NAMES = {
    "category": "Category",
    "assignee": "Assignee",
    "q": "Search",
    "sort": "Sort",
    "status": "Status",
    "cursor": "Page",
    "closed_after": "Closed after",
}


def ticket_query(args: MultiDict[str, str]) -> tuple[TicketQuery, FieldErrors]:
    """The filters in `args`. A bad one is left out and named, and the others still apply: one
    mistyped value should not silently drop a search, a sort and a category."""
    query, errors = parse_form(TicketQuery, args)
    if query is None:
        good = [(name, value) for name, value in args.items(multi=True) if name not in errors]
        query, _ = parse_form(TicketQuery, MultiDict(good))
    return query or TicketQuery(), errors


def filter_problems(errors: FieldErrors) -> list[str]:
    """What the page says about each filter it could not use, in the names the form shows."""
    return [f"{FILTER_NAMES.get(name, name)}: {text}" for name, text in errors.items()]
