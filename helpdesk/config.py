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
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


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


def _parse_value(name: str, annotation: str, raw: str) -> Any:
    if annotation == "bool":
        return _parse_bool(name, raw)
    if annotation == "int":
        return _parse_int(name, raw)
    if annotation == "float":
        return _parse_float(name, raw)
    if annotation.startswith("tuple"):
        return _parse_origins(name, raw)
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
    return Settings(**values, extra=extra)
