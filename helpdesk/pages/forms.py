"""Turning submitted forms into the API's models, with messages a person can act on."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from ..errors import HelpdeskError

M = TypeVar("M", bound=BaseModel)
FieldErrors = dict[str, str]


def _friendly(error: dict[str, Any]) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
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
    """Validate a form against `model`; empty optional fields count as not given.

    `flags` are checkbox names: present means true, absent means false. A form's `version` is
    read on its own (see `form_version`), as text rather than the JSON number the API wants.
    """
    data: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name == "version":
            continue
        if name in flags:
            data[name] = name in form
        elif name in form:
            value = form.get(name, "")
            if value.strip() or field.is_required():
                data[name] = value
    try:
        return model.model_validate(data), {}
    except ValidationError as error:
        errors: FieldErrors = {}
        for item in error.errors():
            name = str(item["loc"][0]) if item["loc"] else "form"
            errors.setdefault(name, _friendly(item))
        return None, errors


def error_for_form(error: HelpdeskError) -> FieldErrors:
    """A domain refusal shown beside the field it names, or at the top of the form."""
    return {error.field or "form": error.detail[:1].upper() + error.detail[1:] + "."}
