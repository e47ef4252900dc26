"""What the settings page shows: each setting in effect with its secrets left out, and what a
production deployment still lacks."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit, urlunsplit

from ..config import ENV_PREFIX, Settings

SECRET_SETTINGS = frozenset({"secret_key", "oidc_client_secret"})
HIDDEN = "••••••"


def without_password(url: str) -> str:
    """A URL as given, its password (an SMTP login, PostgreSQL's, Redis's) replaced."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return HIDDEN  # not a URL we can take apart: show none of it
    if password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{HIDDEN}@{host}"))


def _shown(name: str, value: object) -> str:
    if name in SECRET_SETTINGS:
        return "set (not shown)" if value else "not set"
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value) or "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and "://" in value:
        return without_password(value)
    return str(value) if value != "" else "not set"


def shown_settings(settings: Settings) -> list[tuple[str, str]]:
    """(environment variable, value shown) for every setting, secrets hidden."""
    return [
        (ENV_PREFIX + spec.name.upper(), _shown(spec.name, getattr(settings, spec.name)))
        for spec in dataclasses.fields(settings)
        if spec.name != "extra"
    ]


def production_gaps(settings: Settings) -> list[str]:
    """What to set before strangers use this site, in plain words; empty when nothing is."""
    gaps = []
    if not settings.cookie_secure:
        gaps.append(
            "The sign-in cookie may travel over plain HTTP: serve the site over HTTPS and set "
            f"{ENV_PREFIX}COOKIE_SECURE=true."
        )
    if not settings.smtp_url:
        gaps.append(
            "No mail relay: mail is written to files in the instance folder's mail/ and reaches "
            f"nobody. Set {ENV_PREFIX}SMTP_URL to the campus relay."
        )
    if settings.database_url.startswith("sqlite:"):
        gaps.append(
            "SQLite serves one worker: with several (hypercorn.toml's workers, serve --workers) "
            f"they wait on each other's writes. Set {ENV_PREFIX}DATABASE_URL to PostgreSQL."
        )
    if settings.broker_url.startswith("memory://"):
        gaps.append(
            "The memory:// broker reaches its own process only, so serve refuses several "
            f"workers with it. Set {ENV_PREFIX}BROKER_URL to redis://host:6379/0 to run more."
        )
    if not settings.storage_url.startswith("s3://") and not settings.broker_url.startswith(
        "memory://"
    ):
        gaps.append(
            "Photos and files are kept on this host's disk: a second host would not find them. "
            f"With several hosts, set {ENV_PREFIX}STORAGE_URL to an s3:// bucket."
        )
    host = urlsplit(settings.public_url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1") or not settings.public_url.startswith("https:"):
        gaps.append(
            f"Links in mail point at {settings.public_url}: set {ENV_PREFIX}PUBLIC_URL to the "
            "site's public https:// address."
        )
    return gaps
