"""Turning submitted forms into the API's models, with messages a person can act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from quart import request
from werkzeug.datastructures import MultiDict

from ..domain.attachments import UploadLimits
from ..domain.fields import in_id_range
from ..errors import HelpdeskError
from ..web.uploads import UploadedFile, is_multipart, read_upload_form

M = TypeVar("M", bound=BaseModel)
FieldErrors = dict[str, str]
FILES = "files"  # the file picker of a form
KEPT_IDS = "attachment_ids"  # the boxes of files uploaded by an earlier try (macros file_field)


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


@dataclass(frozen=True)
class FormWithFiles:
    """A page form as sent, with or without files."""

    fields: MultiDict[str, str]  # every field but the kept uploads
    files: list[UploadedFile]  # chosen in the file picker named `files`
    kept_ids: list[int]  # uploads of an earlier try of this form, still ticked


async def read_form_with_files(limits: UploadLimits) -> FormWithFiles:
    """The request's form: multipart with the chosen files, or (sent without any) urlencoded.

    The body may hold all of one message's files; each file's own limit is checked as it is
    stored, so a photo too large comes back beside the picker with everything typed kept.
    Raises HelpdeskError for a body that cannot be a form of this page (then nothing was read).
    """
    if is_multipart():
        upload = await read_upload_form(
            file_bytes=limits.message_bytes,
            total_bytes=limits.message_bytes,
            max_files=limits.per_message * 2,  # a few too many are told so with the rest kept
        )
        sent, files = upload.fields, [each for each in upload.files if each.name == FILES]
    else:
        sent, files = await request.form, []
    fields: MultiDict[str, str] = MultiDict(
        (name, value) for name, value in sent.items(multi=True) if name != KEPT_IDS
    )
    kept = [
        int(raw)
        for raw in sent.getlist(KEPT_IDS)
        if raw.isascii() and raw.isdigit() and len(raw) < 19
    ]
    return FormWithFiles(fields, files, [each for each in kept if in_id_range(each)])
