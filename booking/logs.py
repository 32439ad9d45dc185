"""Logging: one JSON object per line (or plain text for the demo), with the request id.

`configure(settings)` sets up the root logger of a process; `uvicorn_log_config(settings)` is the
same set-up as a `logging.config.dictConfig` dictionary, which uvicorn applies in each of its
worker processes. `RequestContextMiddleware` gives every HTTP request an id (the caller's
`X-Request-ID` when it is sensible, else a new one), echoes it in the response, puts it on every
log record written while the request runs, and writes one access line per request.

Standard `logging`, not structlog: every line comes from a standard logger (ours, uvicorn's,
SQLAlchemy's, Alembic's), so structlog could only be the formatter, and keeping these lines
needs the same code as processors (see docs/decisions.md).
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import re
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from booking.config import Settings

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "booking_request_id", default=None
)

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "request_id", "color_message", "taskName"}

# One line per request: msgspec encodes it in a fraction of json.dumps' time; anything it does
# not know is written as its str(), as json.dumps(default=str) did.
_encode = msgspec.json.Encoder(enc_hook=str).encode

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}$")
REQUEST_ID_HEADER = "x-request-id"
ACCESS_LOGGER = "booking.access"
# Probes from load balancers and orchestrators: logged at DEBUG when they succeed.
QUIET_PATHS = frozenset({"/health", "/ready"})


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or None) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", "request_id", ...extra fields, "exception"}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return _encode(entry).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None) or request_id_var.get()
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


def log_config(settings: Settings) -> dict[str, Any]:
    """A dictConfig for the root logger and uvicorn's loggers (which propagate to it)."""
    formatter = "json" if settings.log_format == "json" else "text"
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "json": {"()": JsonFormatter},
            "text": {"()": TextFormatter},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own handlers are replaced by the root's; its access log is off (the
            # middleware below writes one richer line per request instead).
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            # Connection-level chatter from the SMTP client is not useful at INFO, nor Alembic's
            # plugin set-up on import (its migration steps stay at INFO).
            "aiosmtplib": {"level": "WARNING"},
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
    }


def configure(settings: Settings) -> None:
    logging.config.dictConfig(log_config(settings))


def _new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"x-request-id":
            try:
                candidate = value.decode("ascii").strip()
            except UnicodeDecodeError:
                break
            if _REQUEST_ID_OK.match(candidate):
                return candidate
            break
    return _new_request_id()


class RequestContextMiddleware:
    """Pure ASGI middleware wrapped around the whole app (404s and errors included)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope.get("headers") or [])
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers") or [])
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status = status or 500
            raise
        finally:
            self._access(scope, status, started)
            request_id_var.reset(token)

    def _access(self, scope: Any, status: int | None, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = scope.get("path", "")
        method = scope.get("method", "WS")
        level = logging.INFO
        if status is None or status == 503:
            level = logging.WARNING  # the client went away, or the database is not answering
        elif status >= 500:
            level = logging.ERROR
        elif path in QUIET_PATHS:
            level = logging.DEBUG
        if not self.log.isEnabledFor(level):
            return
        client = scope.get("client")
        self.log.log(
            level,
            "%s %s %s %.1fms",
            method,
            path,
            status if status is not None else "-",
            duration_ms,
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "client": client[0] if client else None,
            },
        )
