"""JSON and time formats shared by the API, the event log and the socket."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def loads(text: str | bytes) -> Any:
    """Parse JSON; raises ValueError (orjson.JSONDecodeError) on anything that is not JSON."""
    return orjson.loads(text)


def isoformat(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a `Z`, the one time format clients ever see."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
