"""Settings: defaults, then `HELPDESK_*` environment variables, then explicit overrides."""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "HELPDESK_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting has a value the app cannot run with; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment, typed and validated once at start-up."""

    instance_path: Path
    database_url: str
    secret_key: str
    broker_url: str = "memory://"
    namespace: str = "helpdesk"  # prefixes Redis channels and keys: several helpdesks, one Redis
    cookie_secure: bool = False
    trusted_proxy_hops: int = 0  # behind a reverse proxy: trust this many X-Forwarded-For hops
    allowed_origins: tuple[str, ...] = ()
    db_pool_size: int = 10
    create_schema: bool = True
    login_max_failures: int = 10
    login_window_seconds: int = 60
    chat_messages: int = 20
    chat_window_seconds: int = 10
    registrations_per_hour: int = 30  # new accounts from one client address an hour
    reports_per_hour: int = 20  # tickets a reporter may open an hour (staff are not limited)
    account_mails_per_hour: int = 5  # password resets, confirmation links: per address, account
    registration: str = "open"  # open | domains (campus addresses, confirmed by mail) | off
    registration_domains: tuple[str, ...] = ()  # for `domains`: e.g. campus.example
    ws_queue_size: int = 256
    ws_rate_per_second: float = 10.0
    ws_burst: int = 30
    ws_violations_before_close: int = 20
    ws_max_frame_bytes: int = 64 * 1024
    ws_sockets_per_user: int = 20  # per process: a person's tabs and phone, with room to spare
    ws_rooms_per_socket: int = 50  # a page joins three: its user's room, the board or a ticket
    replay_limit: int = 1000
    analytics_interval_seconds: float = 1.0
    # Mail. Without an SMTP relay, mail stays in the outbox and is written as .eml files under
    # the instance folder, so a newcomer sees what would be sent.
    smtp_url: str = ""  # smtp://host:port, smtp+starttls://user:pass@host:587, smtps://...
    mail_from: str = "Campus Helpdesk <helpdesk@localhost>"
    public_url: str = "http://127.0.0.1:8000"  # the site's address, for links in mail
    reply_domain: str = "localhost"  # replies go to reply+<token>@<reply_domain>
    notify_delay_seconds: float = 120.0  # wait this long for the person to see it in the app
    notify_per_hour: int = 10  # mails one person gets an hour at most; the rest waits
    mail_gateway_bind: str = ""  # HOST:PORT: serve also runs the inbound mail gateway there
    consumer_poll_seconds: float = 1.0  # how often event-log consumers look for new events
    consumer_lease_seconds: float = 15.0  # a consumer's lease; another process takes over after
    # Sign-in with the university's OpenID Connect provider, on when an issuer is set.
    oidc_issuer: str = ""  # https://login.campus.example/realms/campus
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_staff_groups: tuple[str, ...] = ()  # members of any of these groups are staff
    oidc_groups_claim: str = "groups"  # the claim, in the ID token or userinfo, listing them
    password_login: bool = True  # false: only the university account signs in
    # Attachments: photos and PDFs on reports and in the chat.
    storage_url: str = ""  # file:///path (default: uploads/ in the instance folder), s3://bucket
    max_upload_mb: int = 10  # one file
    message_upload_mb: int = 25  # all the files of one message or report
    attachments_per_message: int = 10
    uploads_per_hour: int = 60  # files one person may upload an hour
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be true or false, not {raw!r}")


def _parse_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            f"{ENV_PREFIX}{name.upper()} must be a whole number, not {raw!r}"
        ) from None
    if value < 0 or (value == 0 and name != "trusted_proxy_hops"):
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be positive, not {raw!r}")
    return value


def _parse_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be positive, not {raw!r}")
    return value


def _parse_origins(_name: str, raw: str) -> tuple[str, ...]:
    return tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())


def _parse_names(_name: str, raw: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def _parse_value(name: str, annotation: str, raw: str) -> Any:
    if annotation == "bool":
        return _parse_bool(name, raw)
    if annotation == "int":
        return _parse_int(name, raw)
    if annotation == "float":
        return _parse_float(name, raw)
    if annotation.startswith("tuple"):
        parse = _parse_origins if name == "allowed_origins" else _parse_names
        return parse(name, raw)
    return raw.strip()


def _instance_secret(instance_path: Path) -> str:
    """Read the instance's secret key, creating it on first run (safe when workers race)."""
    key_file = instance_path / "secret_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return key_file.read_text().strip()


def _check_oidc(values: Mapping[str, Any]) -> None:
    """An issuer needs its client, over https (plain http only to this machine, for tests);
    and passwords may be turned off only where there is another way to sign in."""
    issuer = values.get("oidc_issuer", "")
    if not issuer:
        if not values.get("password_login", True):
            raise ConfigError(
                f"{ENV_PREFIX}PASSWORD_LOGIN can be false only with {ENV_PREFIX}OIDC_ISSUER set"
            )
        return
    parts = urlsplit(issuer)
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
    if not (parts.scheme == "https" or local) or not parts.hostname:
        raise ConfigError(
            f"{ENV_PREFIX}OIDC_ISSUER must be an https:// URL (http:// only to 127.0.0.1 "
            f"or localhost), not {issuer!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{ENV_PREFIX}OIDC_ISSUER must have no query or fragment")
    for name in ("oidc_client_id", "oidc_client_secret"):
        if not values.get(name):
            raise ConfigError(f"{ENV_PREFIX}{name.upper()} is needed with {ENV_PREFIX}OIDC_ISSUER")


def _check_registration(values: dict[str, Any]) -> None:
    """Domains are kept lower-case without a leading @; `domains` needs at least one."""
    mode = values.setdefault("registration", "open").lower()
    if mode not in ("open", "domains", "off"):
        raise ConfigError(f"{ENV_PREFIX}REGISTRATION must be open, domains or off, not {mode!r}")
    domains = tuple(d.lower().lstrip("@") for d in values.get("registration_domains", ()))
    if mode == "domains" and not domains:
        raise ConfigError(
            f"{ENV_PREFIX}REGISTRATION=domains needs {ENV_PREFIX}REGISTRATION_DOMAINS, "
            "for example campus.example"
        )
    values["registration"], values["registration_domains"] = mode, domains


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Build the settings from the environment and `overrides` (keys are field names)."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    fields = {f.name: f for f in dataclasses.fields(Settings) if f.name != "extra"}
    unknown = set(overrides) - set(fields)
    extra = {key: overrides.pop(key) for key in unknown}

    values: dict[str, Any] = {}
    for name, spec in fields.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw.strip() != "":
            values[name] = _parse_value(name, str(spec.type), raw)
    values.update(overrides)

    instance_path = Path(values.get("instance_path") or Path.cwd() / "instance").resolve()
    values["instance_path"] = instance_path
    needs_folder = "database_url" not in values or "secret_key" not in values
    if needs_folder:
        instance_path.mkdir(parents=True, exist_ok=True)
    values.setdefault("database_url", f"sqlite:///{instance_path / 'helpdesk.sqlite3'}")
    if "secret_key" not in values:
        values["secret_key"] = _instance_secret(instance_path)
    if not values.get("broker_url", "memory://").startswith(("memory://", "redis://", "rediss://")):
        raise ConfigError(f"{ENV_PREFIX}BROKER_URL must start with memory:// or redis://")
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", values.get("namespace", "helpdesk")):
        raise ConfigError(f"{ENV_PREFIX}NAMESPACE must be 1-40 of a-z, 0-9, '_' and '-'")
    if not values["database_url"].startswith(("sqlite:", "postgres://", "postgresql://")):
        raise ConfigError(f"{ENV_PREFIX}DATABASE_URL must be an sqlite:// or postgres:// URL")
    storage_url = values.get("storage_url", "")
    if storage_url and not storage_url.startswith(("file://", "s3://")):
        raise ConfigError(f"{ENV_PREFIX}STORAGE_URL must be a file:// or s3:// URL")
    _check_registration(values)
    _check_oidc(values)
    return Settings(**values, extra=extra)
