"""Turning submitted forms into the API's models, with messages a person can act on."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from ..errors import HelpdeskError

M = TypeVar("M", bound=BaseModel)
FieldErrors = dict[str, str]


# What a field's own rule means, where the generic words would not say it (a pattern cannot
# describe itself); everything else falls back to the words by kind below.
FIELD_WORDS: dict[tuple[str, str], str] = {
    ("category", "missing"): "Choose a category.",
    ("username", "string_pattern_mismatch"): (
        "Use 3 to 32 characters: lower-case letters, digits, dots, dashes and underscores."
    ),
    ("email", "string_pattern_mismatch"): "Enter an email address, like name@campus.example.",
}


def _friendly(name: str, error: dict[str, Any]) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if (name, kind) in FIELD_WORDS:
        return FIELD_WORDS[name, kind]
    if kind in ("missing", "string_too_short"):
        return "Please fill this in."
    if kind == "string_too_long":
        return f"Keep it to {context.get('max_length')} characters or fewer."
    if kind == "string_pattern_mismatch":
        return "Use only the characters described."
    if kind == "enum":
        return f"Choose one of: {context.get('expected', 'the options')}."
    return str(error["msg"]).rstrip(".") + "."


def parse_form(
    model: type[M], form: MultiDict[str, str], *, flags: tuple[str, ...] = ()
) -> tuple[M | None, FieldErrors]:
    """Validate a form against `model`; an empty field counts as not given, so an empty
    required one is "missing" (not, say, a pattern it fails), and every field's error is
    reported at once.

    `flags` are checkbox names: present means true, absent means false. A form's `version` is
    read on its own (see `form_version`), as text rather than the JSON number the API wants.
    """
    data: dict[str, Any] = {}
    for name in model.model_fields:
        if name == "version":
            continue
        if name in flags:
            data[name] = name in form
        elif form.get(name, "").strip():
            data[name] = form[name]
    try:
        return model.model_validate(data), {}
    except ValidationError as error:
        errors: FieldErrors = {}
        for item in error.errors():
            name = str(item["loc"][0]) if item["loc"] else "form"
            errors.setdefault(name, _friendly(name, item))
        return None, errors


def error_for_form(error: HelpdeskError) -> FieldErrors:
    """A domain refusal shown beside the field it names, or at the top of the form."""
    return {error.field or "form": error.detail[:1].upper() + error.detail[1:] + "."}
