"""Reading multipart uploads as they stream in, with every limit checked on the way.

Quart's own form parser counts only what is buffered at a time, not the whole body, and keeps
files of any size in temporary files. Uploads here have small, known limits, so the body is
read chunk by chunk through werkzeug's multipart decoder (the parser Quart itself uses), and
refused the moment a file, the body or the number of parts goes over: a 1 GB body is turned
away after its first few megabytes, or at once by its Content-Length.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from quart import request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from ..domain.attachments import describe_size
from ..errors import HelpdeskError, TooLarge, ValidationFailed

FIELD_BYTES = 64 * 1024  # a text field of a form: a title, a description
MAX_PARTS = 64
IDLE_SECONDS = 30.0  # a client that stops sending mid-upload is let go
# The routes whose bodies are uploads; every other body stays within the app's small limit.
UPLOAD_PATHS = re.compile(
    r"^/api/v1/(tickets/[0-9]+/)?attachments/?$|^/tickets/new/?$|^/tickets/[0-9]+/messages/?$"
)


class NotMultipart(HelpdeskError):
    status = 415
    code = "unsupported_media_type"


class UploadTimedOut(HelpdeskError):
    status = 408
    code = "timeout"


@dataclass(frozen=True)
class UploadedFile:
    name: str  # the form field
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class UploadForm:
    fields: MultiDict[str, str] = field(default_factory=MultiDict)
    files: list[UploadedFile] = field(default_factory=list)


def is_multipart() -> bool:
    return request.mimetype == "multipart/form-data"


async def read_upload_form(*, file_bytes: int, total_bytes: int, max_files: int) -> UploadForm:
    """The request's multipart body: each file at most `file_bytes`, all at most `total_bytes`,
    at most `max_files` files (empty file fields, a form sent with none chosen, are left out)."""
    content_type, options = parse_options_header(request.headers.get("Content-Type"))
    boundary = options.get("boundary", "")
    if content_type != "multipart/form-data" or not boundary:
        raise NotMultipart("send the file as multipart/form-data, in a field named file")
    body_limit = total_bytes + FIELD_BYTES * 4
    declared = request.content_length
    if declared is not None and declared > body_limit:
        raise TooLarge(
            f"the upload is {describe_size(declared)}; "
            f"files may be at most {describe_size(file_bytes)} each"
        )
    reader = _FormReader(boundary.encode("latin-1"), file_bytes, max_files)
    received = 0
    chunks = aiter(request.body)
    try:
        while True:
            try:
                chunk = await asyncio.wait_for(anext(chunks), IDLE_SECONDS)
            except StopAsyncIteration:
                break
            received += len(chunk)
            if received > body_limit:
                raise TooLarge(
                    f"the upload is over {describe_size(body_limit)}; "
                    f"files may be at most {describe_size(file_bytes)} each"
                )
            reader.feed(chunk)
    except TimeoutError:
        raise UploadTimedOut("the upload stopped arriving; try again") from None
    except RequestEntityTooLarge:
        raise TooLarge("the upload is too large") from None
    return reader.finish()


class _FormReader:
    """Feeds the decoder and collects fields and files, refusing whatever goes over."""

    def __init__(self, boundary: bytes, file_bytes: int, max_files: int) -> None:
        self.decoder = MultipartDecoder(boundary, FIELD_BYTES * 2, max_parts=MAX_PARTS)
        self.file_bytes = file_bytes
        self.max_files = max_files
        self.form = UploadForm()
        self.part: Field | File | None = None
        self.buffer = bytearray()
        self.ended = False

    def feed(self, chunk: bytes | None) -> None:
        """Hand the decoder at most a field's worth at a time: its buffer is bounded, and a
        client may send a large chunk at once."""
        try:
            if chunk is None:
                self.decoder.receive_data(None)
                self._drain()
                return
            for start in range(0, len(chunk), FIELD_BYTES):
                self.decoder.receive_data(chunk[start : start + FIELD_BYTES])
                self._drain()
        except ValueError:
            raise ValidationFailed("the upload is not a well-formed multipart body") from None
        except RequestEntityTooLarge:
            raise TooLarge("the upload has too many parts or too long a field") from None

    def finish(self) -> UploadForm:
        self.feed(None)
        if not self.ended:
            raise ValidationFailed("the upload ended before it was complete; try again")
        return self.form

    def _drain(self) -> None:
        while True:
            event = self.decoder.next_event()
            if isinstance(event, NeedData):
                return
            if isinstance(event, Epilogue):
                self.ended = True
                return
            if isinstance(event, Field | File):
                self.part, self.buffer = event, bytearray()
            elif isinstance(event, Data):
                self._take(event)

    def _take(self, event: Data) -> None:
        part = self.part
        self.buffer.extend(event.data)
        if isinstance(part, File):
            if len(self.buffer) > self.file_bytes:
                raise TooLarge(
                    f"{part.filename or 'a file'} is over {describe_size(self.file_bytes)}; "
                    "send a smaller file",
                    field=part.name,
                )
        elif len(self.buffer) > FIELD_BYTES:
            raise TooLarge("a field of the form is too long", field=part.name if part else None)
        if event.more_data or part is None:
            return
        if isinstance(part, File):
            self._file_done(part)
        else:
            self.form.fields.add(part.name, self.buffer.decode("utf-8", "replace"))

    def _file_done(self, part: File) -> None:
        if not self.buffer and not part.filename:
            return  # a file field left empty
        if len(self.form.files) >= self.max_files:
            raise TooLarge(f"send at most {self.max_files} files at once", field=part.name)
        self.form.files.append(
            UploadedFile(
                name=part.name,
                filename=part.filename or "",
                content_type=part.headers.get("Content-Type"),
                data=bytes(self.buffer),
            )
        )
