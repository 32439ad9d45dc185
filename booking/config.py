"""Settings from the environment (and a `.env` file in the working directory).

Nothing is built at import time: `Settings.from_env()` is called by the CLI and tests.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./booking.db"
DEFAULT_COST_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,19}$"


class ConfigError(Exception):
    """A setting is missing or malformed."""


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; blank lines and `#` comments are ignored, quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    demo: bool = False
    mail_from: str = "training@localhost"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "none"
    cost_code_pattern: str = DEFAULT_COST_CODE_PATTERN
    worker: str = "inline"
    worker_interval: float = 5.0
    # Seconds a worker holds the outbox rows it claimed; renewed every third of it while the
    # worker lives, so this is how long a killed worker's messages wait for another worker.
    worker_claim_lease: float = 30.0
    db_pool_size: int = 10
    # Extra connections beyond the pool under a burst (None: as many as the pool, at least 5).
    db_max_overflow: int | None = None
    # How long a request waits for a free connection before it is answered 503.
    db_pool_timeout: float = 60.0
    # PostgreSQL: statements running longer than this are cancelled (0 turns the limit off).
    db_statement_timeout_ms: int = 15_000
    # At start, keep trying to reach the database for this long (backoff) before giving up.
    db_connect_retry_seconds: float = 60.0
    # Optional Redis, shared by all processes (rate limits, live-update fan-out); None: unused.
    redis_url: str | None = None
    # "json" (one object per line) or "text"; the demo defaults to text.
    log_format: str = "json"
    log_level: str = "info"
    # How long a stopping process waits for in-flight requests and the worker's current tick.
    shutdown_timeout: float = 30.0
    # A request's headers must arrive within this many seconds, in at most this many bytes
    # (booking/serving.py): a client cannot hold a connection open by never finishing them.
    header_timeout: float = 15.0
    max_header_bytes: int = 65_536
    # Reminders before a session's start, in hours (BOOKING_REMINDER_HOURS, default "168,24").
    reminder_hours: tuple[int, ...] = (168, 24)
    # An approver who has not answered after this many days gets one reminder.
    approval_reminder_days: int = 3
    # Line managers' monthly compliance summary goes out on this day of the month (1–28).
    compliance_summary_day: int = 1
    # Attendance may be changed this many days after a session ends (administrators: always).
    attendance_lock_days: int = 7
    # Single sign-on (OpenID Connect); unset: local accounts only.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    # Browser sessions end after this long idle, and after this long in any case.
    session_idle_minutes: int = 120
    session_max_hours: int = 12
    # How many days before the start a session under its minimum bookings is flagged (or
    # cancelled, if it says so).
    min_bookings_check_days: int = 7
    # Learning record store for xAPI statements; unset: no statements are sent.
    lrs_url: str | None = None
    lrs_username: str | None = None
    lrs_password: str | None = None
    # Card payments (Stripe); unset key: card payment is not offered. API base: another
    # server speaking Stripe's API (tests: localstripe).
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_publishable_key: str | None = None
    # How long a place awaiting card payment holds its seat.
    payment_hold_minutes: int = 30
    # First day of the financial year (MM-DD), for cost codes' annual spend limits.
    financial_year_start: str = "04-01"
    # Booking attempts a minute an administrator or service token may make for other people
    # (each learner booked is also held to the ordinary per-person limit); see booking/ratelimit.
    bulk_bookings_per_minute: int = 600
    # Tests switch this off to prove the concurrency tests can see an oversell; never in production.
    seat_guard: bool = True
    # Webhook endpoints may be plain http and resolve to loopback or private addresses (tests,
    # the demo); off in production, where only https URLs to public addresses are accepted.
    webhooks_allow_private: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, *, demo: bool = False) -> Settings:
        env = dict(read_dotenv(Path.cwd() / ".env"))
        env.update(os.environ if environ is None else environ)
        get = _Reader(env)
        # Read in this order: when several settings are wrong, the first one here is reported.
        choices = _choices(get)
        numbers = _numbers(get)
        reminder_hours = _reminder_hours(get)
        _check_ranges(numbers)
        is_demo = demo or (get("DEMO", "0") or "0").lower() in {"1", "true", "yes"}
        settings = cls(
            **_strings(get),
            **choices,
            **numbers,
            reminder_hours=reminder_hours,
            payment_hold_minutes=_payment_hold_minutes(get),
            financial_year_start=_financial_year_start(get),
            redis_url=_redis_url(get),
            webhooks_allow_private=_webhooks_allow_private(get, is_demo),
            demo=is_demo,
            **_logging(get, is_demo),
        )
        return settings.with_secret_key()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        _, _, path = self.database_url.partition(":///")
        if not path or path.startswith(":memory:"):
            return None
        return Path(path)

    def with_secret_key(self) -> Settings:
        """Fill in the secret key: in demo mode generate one beside the SQLite file."""
        if self.secret_key:
            return self
        if not self.demo:
            # The app refuses to start without one (see `require_secret_key`); commands that do
            # not sign anything (db upgrade, token create) still work.
            return self
        db_path = self.sqlite_path()
        key_file = (db_path.parent if db_path else Path.cwd()) / ".booking-secret-key"
        if key_file.is_file():
            key = key_file.read_text(encoding="utf-8").strip()
        else:
            key = secrets.token_urlsafe(48)
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(key + "\n", encoding="utf-8")
            key_file.chmod(0o600)
        return replace(self, secret_key=key)

    def require_secret_key(self) -> None:
        if len(self.secret_key) < 32:
            raise ConfigError(
                "BOOKING_SECRET_KEY must be set (at least 32 characters) unless running the demo"
            )


class _Reader:
    """`BOOKING_<name>` from the environment; unset and empty both mean the default."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env

    def __call__(self, name: str, default: str | None = None) -> str | None:
        value = self._env.get(f"BOOKING_{name}")
        return value if value not in (None, "") else default


# Plain text settings: (field, variable, default).
_STRINGS: tuple[tuple[str, str, str | None], ...] = (
    ("database_url", "DATABASE_URL", DEFAULT_DATABASE_URL),
    ("secret_key", "SECRET_KEY", ""),
    ("mail_from", "MAIL_FROM", "training@localhost"),
    ("smtp_host", "SMTP_HOST", None),
    ("smtp_user", "SMTP_USER", None),
    ("smtp_password", "SMTP_PASSWORD", None),
    ("cost_code_pattern", "COST_CODE_PATTERN", DEFAULT_COST_CODE_PATTERN),
    ("oidc_client_id", "OIDC_CLIENT_ID", None),
    ("oidc_client_secret", "OIDC_CLIENT_SECRET", None),
    ("lrs_username", "LRS_USERNAME", None),
    ("lrs_password", "LRS_PASSWORD", None),
    ("stripe_api_key", "STRIPE_API_KEY", None),
    ("stripe_api_base", "STRIPE_API_BASE", None),
    ("stripe_webhook_secret", "STRIPE_WEBHOOK_SECRET", None),
    ("stripe_publishable_key", "STRIPE_PUBLISHABLE_KEY", None),
)

# Numeric settings, parsed in this order: (field, variable, type, default; None: optional).
_NUMBERS: tuple[tuple[str, str, type[int] | type[float], str | None], ...] = (
    ("worker_interval", "WORKER_INTERVAL", float, "5"),
    ("worker_claim_lease", "WORKER_CLAIM_LEASE", float, "30"),
    ("smtp_port", "SMTP_PORT", int, "25"),
    ("db_pool_size", "DB_POOL_SIZE", int, "10"),
    ("db_max_overflow", "DB_MAX_OVERFLOW", int, None),
    ("db_pool_timeout", "DB_POOL_TIMEOUT", float, "60"),
    ("db_statement_timeout_ms", "DB_STATEMENT_TIMEOUT_MS", int, "15000"),
    ("db_connect_retry_seconds", "DB_CONNECT_RETRY_SECONDS", float, "60"),
    ("shutdown_timeout", "SHUTDOWN_TIMEOUT", float, "30"),
    ("header_timeout", "HEADER_TIMEOUT", float, "15"),
    ("max_header_bytes", "MAX_HEADER_BYTES", int, "65536"),
    ("approval_reminder_days", "APPROVAL_REMINDER_DAYS", int, "3"),
    ("attendance_lock_days", "ATTENDANCE_LOCK_DAYS", int, "7"),
    ("session_idle_minutes", "SESSION_IDLE_MINUTES", int, "120"),
    ("session_max_hours", "SESSION_MAX_HOURS", int, "12"),
    ("min_bookings_check_days", "MIN_BOOKINGS_CHECK_DAYS", int, "7"),
    ("compliance_summary_day", "COMPLIANCE_SUMMARY_DAY", int, "1"),
    ("bulk_bookings_per_minute", "BULK_BOOKINGS_PER_MINUTE", int, "600"),
)

_NOT_NEGATIVE = (
    "BOOKING_DB_POOL_TIMEOUT, BOOKING_DB_STATEMENT_TIMEOUT_MS, "
    "BOOKING_DB_CONNECT_RETRY_SECONDS and BOOKING_SHUTDOWN_TIMEOUT cannot be negative"
)

# Checked in this order once every number has been read: (broken?, what to say).
_RANGES: tuple[tuple[Callable[[dict[str, Any]], bool], str], ...] = (
    (
        lambda n: n["worker_claim_lease"] < 5,
        "BOOKING_WORKER_CLAIM_LEASE must be at least 5 seconds",
    ),
    (
        lambda n: n["bulk_bookings_per_minute"] < 1,
        "BOOKING_BULK_BOOKINGS_PER_MINUTE must be at least 1",
    ),
    (
        lambda n: not 1 <= n["compliance_summary_day"] <= 28,
        "BOOKING_COMPLIANCE_SUMMARY_DAY must be a day of the month from 1 to 28",
    ),
    (
        lambda n: n["worker_interval"] <= 0,
        "BOOKING_WORKER_INTERVAL must be a positive number of seconds",
    ),
    (
        lambda n: (
            n["db_pool_size"] < 1 or (n["db_max_overflow"] is not None and n["db_max_overflow"] < 0)
        ),
        "BOOKING_DB_POOL_SIZE must be ≥ 1 and BOOKING_DB_MAX_OVERFLOW ≥ 0",
    ),
    (
        lambda n: n["header_timeout"] <= 0 or n["max_header_bytes"] < 1024,
        "BOOKING_HEADER_TIMEOUT must be positive and BOOKING_MAX_HEADER_BYTES at least 1024",
    ),
    (
        lambda n: (
            min(
                n["db_statement_timeout_ms"],
                n["db_connect_retry_seconds"],
                n["shutdown_timeout"],
                n["db_pool_timeout"],
            )
            < 0
        ),
        _NOT_NEGATIVE,
    ),
)


def _strings(get: _Reader) -> dict[str, Any]:
    values: dict[str, Any] = {key: get(name, default) for key, name, default in _STRINGS}
    # URLs are kept without a trailing slash; unset ones stay None.
    values["base_url"] = (get("BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
    values["oidc_issuer"] = (get("OIDC_ISSUER") or "").rstrip("/") or None
    values["lrs_url"] = (get("LRS_URL") or "").rstrip("/") or None
    return values


def _choices(get: _Reader) -> dict[str, Any]:
    smtp_tls = (get("SMTP_TLS", "none") or "none").lower()
    if smtp_tls not in {"none", "starttls", "tls"}:
        raise ConfigError("BOOKING_SMTP_TLS must be one of none, starttls, tls")
    worker = (get("WORKER", "inline") or "inline").lower()
    if worker not in {"inline", "off"}:
        raise ConfigError("BOOKING_WORKER must be inline or off")
    return {"smtp_tls": smtp_tls, "worker": worker}


def _webhooks_allow_private(get: _Reader, is_demo: bool) -> bool:
    """Loopback and private webhook URLs: allowed in the demo unless switched off."""
    allow = (get("WEBHOOKS_ALLOW_PRIVATE", "1" if is_demo else "0") or "0").lower()
    if allow not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigError("BOOKING_WEBHOOKS_ALLOW_PRIVATE must be 1 or 0")
    return allow in {"1", "true", "yes"}


def _numbers(get: _Reader) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, name, kind, default in _NUMBERS:
        raw = get(name, default)
        try:
            values[key] = kind(raw) if raw is not None else None
        except ValueError as exc:
            raise ConfigError(f"a numeric setting is not a number: {exc}") from exc
    return values


def _check_ranges(numbers: dict[str, Any]) -> None:
    for broken, message in _RANGES:
        if broken(numbers):
            raise ConfigError(message)


def _reminder_hours(get: _Reader) -> tuple[int, ...]:
    try:
        hours = {int(h) for h in (get("REMINDER_HOURS", "168,24") or "").split(",") if h}
    except ValueError as exc:
        raise ConfigError("BOOKING_REMINDER_HOURS is a comma-separated list of hours") from exc
    if any(h <= 0 for h in hours):
        raise ConfigError("BOOKING_REMINDER_HOURS must be positive numbers of hours")
    return tuple(sorted(hours, reverse=True))


def _payment_hold_minutes(get: _Reader) -> int:
    try:
        minutes = int(get("PAYMENT_HOLD_MINUTES", "30") or 30)
    except ValueError as exc:
        raise ConfigError("BOOKING_PAYMENT_HOLD_MINUTES must be a whole number") from exc
    if minutes < 1:
        raise ConfigError("BOOKING_PAYMENT_HOLD_MINUTES must be at least 1")
    return minutes


def _financial_year_start(get: _Reader) -> str:
    start = get("FINANCIAL_YEAR_START", "04-01") or "04-01"
    if not re.fullmatch(r"\d{2}-\d{2}", start):
        raise ConfigError("BOOKING_FINANCIAL_YEAR_START is a month and day such as 04-01")
    return start


def _redis_url(get: _Reader) -> str | None:
    url = get("REDIS_URL")
    if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("BOOKING_REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return url


def _logging(get: _Reader, is_demo: bool) -> dict[str, Any]:
    log_format = (get("LOG_FORMAT", "text" if is_demo else "json") or "json").lower()
    if log_format not in {"json", "text"}:
        raise ConfigError("BOOKING_LOG_FORMAT must be json or text")
    log_level = (get("LOG_LEVEL", "info") or "info").lower()
    if log_level not in {"debug", "info", "warning", "error"}:
        raise ConfigError("BOOKING_LOG_LEVEL must be debug, info, warning or error")
    return {"log_format": log_format, "log_level": log_level}
