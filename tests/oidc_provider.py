"""A real OpenID Connect provider for the tests: `oidc-provider-mock` (discovery, keys,
authorization, token, userinfo and end-session endpoints) served over HTTP on 127.0.0.1 from a
thread, behind a wrapper that can make it misbehave the way a tampered answer would."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import oidc_provider_mock
from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class Tampering:
    """What the provider does wrong, set by a test and reset after it."""

    issuer_host: str | None = None  # the token endpoint signs as this (loopback) host
    as_client: str | None = None  # the token endpoint takes the request as from this client
    break_signature: bool = False  # the ID token's signature is spoiled on the way back
    token_requests: list[dict[str, str]] = field(default_factory=list)


class TamperingProxy:
    """WSGI middleware around the provider; only the token endpoint is ever changed."""

    def __init__(self, app: Callable[..., Iterable[bytes]], tampering: Tampering) -> None:
        self.app = app
        self.tampering = tampering

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != "/oauth2/token":
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        self.tampering.token_requests.append(dict(parse_qsl(body.decode())))
        environ["wsgi.input"] = _Body(body)
        if self.tampering.issuer_host:
            environ["HTTP_HOST"] = self.tampering.issuer_host
        if self.tampering.as_client:
            credentials = f"{self.tampering.as_client}:any-secret".encode()
            environ["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(credentials).decode()
        if not self.tampering.break_signature:
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured.update(status=status, headers=headers)

        answer = json.loads(b"".join(self.app(environ, keep)))
        header, payload, signature = answer["id_token"].split(".")
        answer["id_token"] = f"{header}.{payload}.{signature[::-1]}"
        spoiled = json.dumps(answer).encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(spoiled)))])
        return [spoiled]


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        chunk, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return chunk


@dataclass
class Provider:
    issuer: str
    tampering: Tampering
    server: BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        """Stop answering, as a provider that went down; once stopped, nothing more."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join()
            self.server.server_close()

    def set_user(self, sub: str, **claims: Any) -> None:
        """What the provider says about `sub` from now on (the mock's own user endpoint)."""
        response = httpx.put(f"{self.issuer}/users/{sub}", json=claims)
        assert response.status_code == 204, response.text

    def authorize(self, authorization_url: str, sub: str, **changes: str) -> str:
        """The person `sub` approves the sign-in at the provider's page; the URL the provider
        sends the browser back to. `changes` alter the request first, as a tamperer would."""
        parts = urlsplit(authorization_url)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        query.update(changes)
        url = urlunsplit(parts._replace(query=urlencode(query)))
        response = httpx.post(url, data={"sub": sub})
        assert response.status_code == 302, response.text
        return response.headers["location"]

    def deny(self, authorization_url: str) -> str:
        response = httpx.post(authorization_url, data={"action": "deny"})
        assert response.status_code == 302, response.text
        return response.headers["location"]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@contextmanager
def running_provider(token_lifetime: timedelta = timedelta(hours=1)) -> Iterator[Provider]:
    """The provider on a free port of 127.0.0.1 until the block ends."""
    tampering = Tampering()
    app = oidc_provider_mock.app(require_nonce=True, access_token_max_age=token_lifetime)
    server = make_server("127.0.0.1", 0, TamperingProxy(app, tampering), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    provider = Provider(f"http://127.0.0.1:{server.server_port}", tampering, server, thread)
    try:
        yield provider
    finally:
        provider.stop()
