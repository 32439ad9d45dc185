"""Settings from the environment (and a `.env` file in the working directory).

Nothing is built at import time: `Settings.from_env()` is called by the CLI and tests.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

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
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, *, demo: bool = False) -> Settings:
        env = dict(read_dotenv(Path.cwd() / ".env"))
        env.update(os.environ if environ is None else environ)

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(f"BOOKING_{name}")
            return value if value not in (None, "") else default

        smtp_tls = (get("SMTP_TLS", "none") or "none").lower()
        if smtp_tls not in {"none", "starttls", "tls"}:
            raise ConfigError("BOOKING_SMTP_TLS must be one of none, starttls, tls")
        worker = (get("WORKER", "inline") or "inline").lower()
        if worker not in {"inline", "off"}:
            raise ConfigError("BOOKING_WORKER must be inline or off")
        try:
            interval = float(get("WORKER_INTERVAL", "5") or 5)
            claim_lease = float(get("WORKER_CLAIM_LEASE", "30") or 30)
            smtp_port = int(get("SMTP_PORT", "25") or 25)
            pool_size = int(get("DB_POOL_SIZE", "10") or 10)
            max_overflow_raw = get("DB_MAX_OVERFLOW")
            max_overflow = int(max_overflow_raw) if max_overflow_raw is not None else None
            pool_timeout = float(get("DB_POOL_TIMEOUT", "60") or 60)
            statement_timeout_ms = int(get("DB_STATEMENT_TIMEOUT_MS", "15000") or 0)
            connect_retry = float(get("DB_CONNECT_RETRY_SECONDS", "60") or 0)
            shutdown_timeout = float(get("SHUTDOWN_TIMEOUT", "30") or 0)
            header_timeout = float(get("HEADER_TIMEOUT", "15") or 15)
            max_header_bytes = int(get("MAX_HEADER_BYTES", "65536") or 65536)
            approval_reminder_days = int(get("APPROVAL_REMINDER_DAYS", "3") or 3)
            attendance_lock_days = int(get("ATTENDANCE_LOCK_DAYS", "7") or 7)
            session_idle_minutes = int(get("SESSION_IDLE_MINUTES", "120") or 120)
            session_max_hours = int(get("SESSION_MAX_HOURS", "12") or 12)
            min_bookings_check_days = int(get("MIN_BOOKINGS_CHECK_DAYS", "7") or 7)
            bulk_bookings_per_minute = int(get("BULK_BOOKINGS_PER_MINUTE", "600") or 600)
        except ValueError as exc:
            raise ConfigError(f"a numeric setting is not a number: {exc}") from exc
        try:
            reminder_hours = tuple(
                sorted(
                    {int(h) for h in (get("REMINDER_HOURS", "168,24") or "").split(",") if h},
                    reverse=True,
                )
            )
        except ValueError as exc:
            raise ConfigError("BOOKING_REMINDER_HOURS is a comma-separated list of hours") from exc
        if any(h <= 0 for h in reminder_hours):
            raise ConfigError("BOOKING_REMINDER_HOURS must be positive numbers of hours")
        if claim_lease < 5:
            raise ConfigError("BOOKING_WORKER_CLAIM_LEASE must be at least 5 seconds")
        if bulk_bookings_per_minute < 1:
            raise ConfigError("BOOKING_BULK_BOOKINGS_PER_MINUTE must be at least 1")
        if interval <= 0:
            raise ConfigError("BOOKING_WORKER_INTERVAL must be a positive number of seconds")
        if pool_size < 1 or (max_overflow is not None and max_overflow < 0):
            raise ConfigError("BOOKING_DB_POOL_SIZE must be ≥ 1 and BOOKING_DB_MAX_OVERFLOW ≥ 0")
        if header_timeout <= 0 or max_header_bytes < 1024:
            raise ConfigError(
                "BOOKING_HEADER_TIMEOUT must be positive and BOOKING_MAX_HEADER_BYTES at least 1024"
            )
        if min(statement_timeout_ms, connect_retry, shutdown_timeout, pool_timeout) < 0:
            raise ConfigError(
                "BOOKING_DB_POOL_TIMEOUT, BOOKING_DB_STATEMENT_TIMEOUT_MS, "
                "BOOKING_DB_CONNECT_RETRY_SECONDS and BOOKING_SHUTDOWN_TIMEOUT cannot be negative"
            )
        try:
            payment_hold_minutes = int(get("PAYMENT_HOLD_MINUTES", "30") or 30)
        except ValueError as exc:
            raise ConfigError("BOOKING_PAYMENT_HOLD_MINUTES must be a whole number") from exc
        if payment_hold_minutes < 1:
            raise ConfigError("BOOKING_PAYMENT_HOLD_MINUTES must be at least 1")
        financial_year_start = get("FINANCIAL_YEAR_START", "04-01") or "04-01"
        if not re.fullmatch(r"\d{2}-\d{2}", financial_year_start):
            raise ConfigError("BOOKING_FINANCIAL_YEAR_START is a month and day such as 04-01")
        redis_url = get("REDIS_URL")
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("BOOKING_REDIS_URL must be a redis://, rediss:// or unix:// URL")
        is_demo = demo or (get("DEMO", "0") or "0").lower() in {"1", "true", "yes"}
        log_format = (get("LOG_FORMAT", "text" if is_demo else "json") or "json").lower()
        if log_format not in {"json", "text"}:
            raise ConfigError("BOOKING_LOG_FORMAT must be json or text")
        log_level = (get("LOG_LEVEL", "info") or "info").lower()
        if log_level not in {"debug", "info", "warning", "error"}:
            raise ConfigError("BOOKING_LOG_LEVEL must be debug, info, warning or error")
        settings = cls(
            database_url=get("DATABASE_URL", DEFAULT_DATABASE_URL) or DEFAULT_DATABASE_URL,
            secret_key=get("SECRET_KEY", "") or "",
            base_url=(get("BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
            demo=is_demo,
            mail_from=get("MAIL_FROM", "training@localhost") or "training@localhost",
            smtp_host=get("SMTP_HOST"),
            smtp_port=smtp_port,
            smtp_user=get("SMTP_USER"),
            smtp_password=get("SMTP_PASSWORD"),
            smtp_tls=smtp_tls,
            cost_code_pattern=get("COST_CODE_PATTERN", DEFAULT_COST_CODE_PATTERN)
            or DEFAULT_COST_CODE_PATTERN,
            worker=worker,
            worker_interval=interval,
            worker_claim_lease=claim_lease,
            db_pool_size=pool_size,
            db_max_overflow=max_overflow,
            db_pool_timeout=pool_timeout,
            db_statement_timeout_ms=statement_timeout_ms,
            db_connect_retry_seconds=connect_retry,
            redis_url=redis_url,
            log_format=log_format,
            log_level=log_level,
            shutdown_timeout=shutdown_timeout,
            header_timeout=header_timeout,
            max_header_bytes=max_header_bytes,
            reminder_hours=reminder_hours,
            approval_reminder_days=approval_reminder_days,
            attendance_lock_days=attendance_lock_days,
            oidc_issuer=(get("OIDC_ISSUER") or "").rstrip("/") or None,
            oidc_client_id=get("OIDC_CLIENT_ID"),
            oidc_client_secret=get("OIDC_CLIENT_SECRET"),
            session_idle_minutes=session_idle_minutes,
            session_max_hours=session_max_hours,
            min_bookings_check_days=min_bookings_check_days,
            lrs_url=(get("LRS_URL") or "").rstrip("/") or None,
            lrs_username=get("LRS_USERNAME"),
            lrs_password=get("LRS_PASSWORD"),
            stripe_api_key=get("STRIPE_API_KEY"),
            stripe_api_base=get("STRIPE_API_BASE"),
            stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET"),
            stripe_publishable_key=get("STRIPE_PUBLISHABLE_KEY"),
            payment_hold_minutes=payment_hold_minutes,
            financial_year_start=financial_year_start,
            bulk_bookings_per_minute=bulk_bookings_per_minute,
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
