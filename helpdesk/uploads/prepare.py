"""An upload turned into what is stored and served: its kind decided by its bytes, images
re-encoded without metadata, PDFs checked and kept as they came, and a name safe to show."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from helpdesk.errors import UnsupportedType
from helpdesk.uploads import images, kinds
from helpdesk.uploads.kinds import Kind

MAX_STEM_CHARS = 120
# A PDF reader looks for the end marker this close to the end of the file.
PDF_TAIL_BYTES = 1024
_PDF_HEADERS = (b"%PDF-1.", b"%PDF-2.")
_TAKEN = "the helpdesk takes photos (JPEG, PNG, WebP, GIF, HEIC) and PDF documents"
_ADVICE = {
    "image": "; save it as JPEG or PNG and try again",
    "document": "; save it as a PDF and try again",
    "archive": "; attach the photos or PDFs inside it instead",
    "media": "; attach a photo or a screenshot instead",
}
# Joiners shape words in Persian, Hindi and emoji; every other format character (bidi overrides
# that make "gpj.exe" read as "exe.jpg", zero-width spaces) is dropped.
_KEPT_FORMAT_CHARACTERS = {"\u200c", "\u200d"}
_DROPPED_CATEGORIES = {"Cf", "Cs", "Co", "Cn"}
_MAX_EXTENSION_CHARS = 8


@dataclass(frozen=True)
class Prepared:
    filename: str  # the given name's stem, cleaned, with the extension of what `data` is
    content_type: str  # image/jpeg | image/png | image/webp | image/gif | application/pdf
    data: bytes  # what is stored and served: a re-encoded image, or the PDF as it came
    width: int | None  # images, after orientation; PDF: None
    height: int | None
    thumbnail: bytes | None  # images: WebP fitting 480x480; PDF: None
    digest: str  # hex sha256 of `data`, used as the ETag


def prepare(data: bytes, filename: str, declared_type: str | None = None) -> Prepared:
    """Check and convert an upload; CPU-bound, meant for a worker thread.

    `declared_type` is what the browser sent, which it guesses from the name: it decides
    nothing, like the name itself, and is accepted so callers can pass the form field as is.
    Raises UnsupportedType or TooLarge (field "file") in words a student can act on."""
    if not data:
        raise UnsupportedType("the file is empty", field="file")
    kind = kinds.sniff(data)
    if kind is None:
        raise UnsupportedType(f"this file is not a photo or a PDF; {_TAKEN}", field="file")
    if not kind.accepted:
        raise UnsupportedType(_refusal(kind), field="file")
    stem, extension = split_name(filename)
    named = kinds.by_extension(extension) if extension else None
    if named is not None and named is not kind and not _both_photos(named, kind):
        raise UnsupportedType(
            f"the file is named .{extension.lower()} but is {kind.description}; "
            "rename it or choose the right file",
            field="file",
        )
    if kind is kinds.PDF:
        _check_pdf(data)
        return Prepared(
            filename=f"{stem or 'document'}.pdf",
            content_type="application/pdf",
            data=data,
            width=None,
            height=None,
            thumbnail=None,
            digest=hashlib.sha256(data).hexdigest(),
        )
    image = images.reencode(data, kind)
    assert image.kind.media_type is not None  # an output kind is always a taken one
    return Prepared(
        filename=f"{stem or 'photo'}.{image.kind.extensions[0]}",
        content_type=image.kind.media_type,
        data=image.data,
        width=image.width,
        height=image.height,
        thumbnail=image.thumbnail,
        digest=hashlib.sha256(image.data).hexdigest(),
    )


def _both_photos(named: Kind, kind: Kind) -> bool:
    """A photo named as another kind of photo the helpdesk takes (an iPhone's HEIC saved as
    .jpg, a screenshot saved as .png that is a JPEG): it is re-encoded and named by what it is
    anyway, so the mix-up is harmless and the student is not sent back."""
    return named.accepted and kind.accepted and named.family == kind.family == "image"


def split_name(filename: str) -> tuple[str, str]:
    """The cleaned stem (possibly empty) and the extension (without the dot) of a given name.

    Only the last path part counts, whichever separator the sender's system uses; control,
    bidi and other invisible characters go before the name is split, so they cannot hide an
    extension; whitespace runs become one space; leading and trailing dots and spaces go."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _visible(base).rstrip(" .")
    head, dot, tail = cleaned.rpartition(".")
    if dot and _is_extension(tail):
        stem, extension = head, tail
    else:
        stem, extension = cleaned, ""
    return stem.strip(" .")[:MAX_STEM_CHARS].rstrip(" ."), extension


def _visible(text: str) -> str:
    characters = []
    for character in unicodedata.normalize("NFC", text):
        category = unicodedata.category(character)
        if category == "Cc" or category.startswith("Z"):
            characters.append(" ")
        elif category not in _DROPPED_CATEGORIES or character in _KEPT_FORMAT_CHARACTERS:
            characters.append(character)
    return " ".join("".join(characters).split())


def _is_extension(tail: str) -> bool:
    return (
        0 < len(tail) <= _MAX_EXTENSION_CHARS
        and tail.isascii()
        and tail.isalnum()
        and not tail.isdigit()
    )


def _refusal(kind: Kind) -> str:
    if kind.family == "image":
        opening = "the helpdesk cannot take this kind of image"
    else:
        opening = "this file is not a photo or a PDF"
    return f"{opening} (it looks like {kind.description}){_ADVICE.get(kind.family, '')}"


def _check_pdf(data: bytes) -> None:
    if not data.startswith(_PDF_HEADERS) or b"%%EOF" not in data[-PDF_TAIL_BYTES:]:
        raise UnsupportedType(
            "this PDF is damaged or incomplete and cannot be read; save it again and retry",
            field="file",
        )
