"""A request class that reads input the one way the whole app means it: a query string without
its empty values, and JSON bodies whose faults are clear 4xx errors, never a 500."""

from __future__ import annotations

from typing import Any, ClassVar

from quart import Request
from werkzeug.datastructures import MultiDict
from werkzeug.utils import cached_property

from ..encoding import loads
from ..errors import HelpdeskError
from .uploads import UPLOAD_PATHS


class MalformedBody(HelpdeskError):
    status = 400
    code = "malformed_json"


class UnsupportedMediaType(HelpdeskError):
    status = 415
    code = "unsupported_media_type"


class HelpdeskRequest(Request):
    # Bodies may be this large on the upload routes (see web/uploads.py), set per app with
    # `for_uploads`; every other route keeps the app's MAX_CONTENT_LENGTH.
    upload_body_bytes: ClassVar[int | None] = None

    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        if self.upload_body_bytes is not None and method == "POST" and UPLOAD_PATHS.match(path):
            kwargs["max_content_length"] = self.upload_body_bytes
        super().__init__(method, scheme, path, *args, **kwargs)

    @classmethod
    def for_uploads(cls, body_bytes: int) -> type[HelpdeskRequest]:
        """The request class of an app whose upload routes take bodies of `body_bytes`."""
        return type(cls.__name__, (cls,), {"upload_body_bytes": body_bytes})

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The query string without its blank values: a form's "All" sends `category=`, which
        means "not given" to the API's validation, the pages and analytics alike."""
        given = super().args
        return self.parameter_storage_class(
            (name, value) for name, value in given.items(multi=True) if value.strip()
        )

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Strict UTF-8 JSON; the body must be declared JSON (a cross-site form cannot send it)."""
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        if not (force or self.is_json):
            if silent:
                return None
            raise UnsupportedMediaType("send the body as JSON with Content-Type: application/json")
        raw = await self.get_data(cache=cache, as_text=False)
        try:
            result = loads(raw)
        except ValueError as error:
            if not silent:
                raise MalformedBody(f"the body is not valid JSON: {error}") from None
            result = None
        if cache:
            self._cached_json[silent] = result
        return result
