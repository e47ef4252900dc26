"""What a browser may keep: nothing but the public files.

Campus computers in libraries and labs are shared. A page or API answer the browser stored
would come back with Back after "Sign out", so every answer is `no-store` unless it is the same
for everyone (the app's static files, the API description and its viewer).
"""

from __future__ import annotations

from quart import Response, request

PUBLIC_ENDPOINTS = frozenset({"static", "openapi", "docs.api_docs", "docs.docs_asset"})
NO_STORE = "no-store"


def forbid_storing_private_answers(response: Response) -> Response:
    """After every request; an answer that already says how to cache it keeps its own rule."""
    if request.endpoint not in PUBLIC_ENDPOINTS:
        response.headers.setdefault("Cache-Control", NO_STORE)
    return response
