"""A request class whose JSON parsing answers bad bodies with clear 4xx errors, never a 500."""

from __future__ import annotations

from typing import Any

from quart import Request

from ..encoding import loads
from ..errors import HelpdeskError


class MalformedBody(HelpdeskError):
    status = 400
    code = "malformed_json"


class UnsupportedMediaType(HelpdeskError):
    status = 415
    code = "unsupported_media_type"


class HelpdeskRequest(Request):
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
