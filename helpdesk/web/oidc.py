"""Signing in with the university's OpenID Connect provider, through Authlib: the authorization
code flow with PKCE (S256), `state` and `nonce` kept in a signed, short-lived cookie of this
browser only, and the ID token's signature, issuer, audience, expiry and nonce checked against
the provider's discovery document and keys (cached; fetched again for a key id not seen yet)."""

from __future__ import annotations

import hmac
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import BaseApp, OAuthError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from itsdangerous import BadData, URLSafeTimedSerializer
from joserfc.errors import JoseError
from quart import Response

# Authlib 1.9 warns on import that it would rather drive `httpx2` than `httpx`; both work, and the
# warning would be the first line every `helpdesk` command prints. Only that one is silenced.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="The httpx module is deprecated", category=AuthlibDeprecationWarning
    )
    from authlib.integrations.httpx_client import AsyncOAuth2Client

try:  # the HTTP client Authlib uses: httpx2 where installed, else httpx
    import httpx2 as http_client
except ImportError:
    import httpx as http_client

from ..config import Settings
from ..domain.identities import Identity
from ..errors import HelpdeskError
from ..models import User
from .context import services
from .redirects import local_path

FLOW_COOKIE = "helpdesk_oidc_flow"
FLOW_PATH = "/login/oidc"  # the cookie goes only to the two sign-in routes
FLOW_SECONDS = 600  # time to sign in at the provider
CLOCK_SKEW_SECONDS = 60
SCOPES = "openid profile email"
HTTP_TIMEOUT_SECONDS = 10.0


class SignInRefused(HelpdeskError):
    """The provider's answer cannot sign anyone in; the message says so in plain words."""

    status = 400
    code = "sign_in_refused"


class ProviderUnavailable(SignInRefused):
    """The provider did not answer, or not in a way that can be read."""

    status = 503
    code = "unavailable"


class _ProviderClient(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):
    """Authlib's own composition for an async OpenID client (as its Starlette integration
    builds one), without a framework session: the flow's state lives in the cookie here."""

    client_cls = AsyncOAuth2Client


@dataclass(frozen=True)
class Flow:
    """One sign-in under way in one browser."""

    state: str
    nonce: str
    code_verifier: str
    next: str | None


def _client(settings: Settings) -> _ProviderClient:
    """One client per app, so the discovery document and keys are fetched once."""
    extensions = services().extensions
    client = extensions.get("helpdesk_oidc")
    if client is None:
        client = _ProviderClient(
            None,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=settings.oidc_issuer.rstrip("/")
            + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": SCOPES,
                "code_challenge_method": "S256",
                "timeout": HTTP_TIMEOUT_SECONDS,
            },
        )
        extensions["helpdesk_oidc"] = client
    return client


def redirect_uri(settings: Settings) -> str:
    """The address to register at the provider."""
    return settings.public_url.rstrip("/") + "/login/oidc/callback"


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="helpdesk-oidc-flow")


async def _metadata(settings: Settings) -> Mapping[str, Any]:
    """The discovery document, which must name the configured issuer as its own."""
    metadata = await _client(settings).load_server_metadata()
    if metadata.get("issuer") != settings.oidc_issuer:
        _client(settings).server_metadata.clear()
        raise SignInRefused("the sign-in provider names another issuer than the one configured")
    return metadata


_PROVIDER_FAILURES = (
    http_client.HTTPError,
    OAuthError,
    JoseError,
    ValueError,
    KeyError,
    RuntimeError,
)


async def begin(settings: Settings, next_path: str | None) -> tuple[str, str]:
    """The provider's authorization URL to send the browser to, and the flow cookie's value."""
    try:
        await _metadata(settings)
        authorization = await _client(settings).create_authorization_url(
            redirect_uri(settings),
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(48),
        )
    except _PROVIDER_FAILURES:
        raise ProviderUnavailable("the university sign-in cannot be reached just now") from None
    flow = {
        "state": authorization["state"],
        "nonce": authorization["nonce"],
        "code_verifier": authorization["code_verifier"],
        "next": local_path(next_path),
    }
    return authorization["url"], _serializer(settings).dumps(flow)


def set_flow_cookie(response: Response, settings: Settings, value: str) -> None:
    response.set_cookie(
        FLOW_COOKIE,
        value,
        max_age=FLOW_SECONDS,
        path=FLOW_PATH,
        secure=settings.cookie_secure,
        httponly=True,
        samesite="Lax",  # sent on the provider's top-level redirect back, not on cross-site posts
    )


def clear_flow_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        FLOW_COOKIE, path=FLOW_PATH, secure=settings.cookie_secure, httponly=True, samesite="Lax"
    )


def read_flow(settings: Settings, value: str | None) -> Flow:
    """The sign-in this browser started, if it started one in the last few minutes."""
    if not value:
        raise SignInRefused("this sign-in was not started here, or took too long: try again")
    try:
        data = _serializer(settings).loads(value, max_age=FLOW_SECONDS)
        return Flow(data["state"], data["nonce"], data["code_verifier"], data["next"])
    except (BadData, KeyError, TypeError):
        raise SignInRefused(
            "this sign-in was not started here, or took too long: try again"
        ) from None


async def finish(settings: Settings, flow: Flow, args: Mapping[str, str]) -> Identity:
    """Who the provider signed in, once its answer is this browser's own and its ID token
    holds up: signed by the provider's key, from the configured issuer, for this client,
    unexpired, and carrying this flow's nonce."""
    if args.get("error"):
        if args.get("error") == "access_denied":
            raise SignInRefused("the sign-in was cancelled at the university's sign-in page")
        raise SignInRefused("the university's sign-in page refused the sign-in")
    if not hmac.compare_digest(args.get("state", "").encode(), flow.state.encode()):
        raise SignInRefused("this sign-in answer does not belong to this browser: try again")
    code = args.get("code")
    if not code:
        raise SignInRefused("the university's sign-in page sent no authorization code")
    client = _client(settings)
    try:
        await _metadata(settings)
        token = await client.fetch_access_token(
            redirect_uri(settings), code=code, code_verifier=flow.code_verifier
        )
        if "id_token" not in token:
            raise SignInRefused("the sign-in provider sent no ID token")
        # Authlib checks the audience only through `azp`: both are named here, as required.
        expected = {
            "iss": {"essential": True, "values": [settings.oidc_issuer]},
            "aud": {"essential": True, "values": [settings.oidc_client_id]},
        }
        claims = dict(
            await client.parse_id_token(
                token, flow.nonce, claims_options=expected, leeway=CLOCK_SKEW_SECONDS
            )
        )
        if settings.oidc_groups_claim not in claims:
            claims.update(await _userinfo(client, token, claims["sub"]))
    except SignInRefused:
        raise
    except JoseError:
        raise SignInRefused(
            "the university's sign-in answer did not hold up (its token is not for this "
            "helpdesk, expired, or not signed by the provider)"
        ) from None
    except _PROVIDER_FAILURES:
        raise ProviderUnavailable("the university sign-in cannot be reached just now") from None
    return Identity.from_claims(settings.oidc_issuer, claims, settings.oidc_groups_claim)


async def _userinfo(client: _ProviderClient, token: Mapping[str, Any], sub: str) -> dict[str, Any]:
    """The groups, where the provider lists them only at its userinfo endpoint. Its answer
    counts only for the same subject (OpenID Connect Core, 5.3.2)."""
    metadata = await client.load_server_metadata()
    if not metadata.get("userinfo_endpoint"):
        return {}
    info = dict(await client.userinfo(token=token))
    if info.get("sub") != sub:
        raise SignInRefused("the sign-in provider's user information is about someone else")
    info.pop("sub")
    return info


async def end_session_url(settings: Settings, account: User | None) -> str | None:
    """Where to send the browser so the provider signs it out too, for an account that signs
    in there, when the provider offers that (RP-Initiated Logout); None when it does not, or
    cannot be reached: the helpdesk's own session has ended either way."""
    if account is None or account.oidc_issuer != settings.oidc_issuer or not settings.oidc_enabled:
        return None
    try:
        metadata = await _metadata(settings)
        if not metadata.get("end_session_endpoint"):
            return None
        logout = await _client(settings).create_logout_url(
            post_logout_redirect_uri=settings.public_url.rstrip("/") + "/login",
            client_id=settings.oidc_client_id,
        )
    except (SignInRefused, *_PROVIDER_FAILURES):
        return None
    return logout["url"]
