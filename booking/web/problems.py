"""Errors as RFC 9457 problem details on the API, and as an error page on HTML routes."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template

from booking.db import describe, is_unavailable
from booking.kernel.errors import InvalidError, RefusedError, ServiceError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://workshop-booking.example/problems/"

_TITLES = {
    400: "Malformed request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}
DATABASE_DOWN = "The database is not answering; try again shortly."
RETRY_AFTER_SECONDS = 5


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return (
        path.startswith("/api/") or path in ("/health", "/ready") or path.startswith("/webhooks/")
    )


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    kind: str | None = None,
    **extra: Any,
) -> Response[Any]:
    body = {
        "type": TYPE_BASE + (kind or str(status)),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


def service_error_handler(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    if not wants_json(request):
        return error_page(request, exc.status, exc.title, exc.detail, getattr(exc, "reasons", []))
    extra: dict[str, Any] = {}
    kind = type(exc).__name__.removesuffix("Error").lower()
    if isinstance(exc, RefusedError):
        extra["reasons"] = [r.as_dict() for r in exc.reasons]
        kind = "booking-refused"
    if isinstance(exc, InvalidError) and exc.field:
        extra["field"] = exc.field
    return problem(exc.status, exc.detail, title=exc.title, kind=kind, **extra)


def validation_error_handler(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    """Body that is JSON but of the wrong shape → 422 naming the field; not JSON at all → 400."""
    cause = exc.__cause__
    if isinstance(cause, msgspec.ValidationError):
        message = str(cause)
        fields = [e.get("key") for e in (exc.extra or []) if isinstance(e, dict)]
        if wants_json(request):
            return problem(
                422,
                f"The request body does not fit: {message}",
                kind="invalid-body",
                errors=exc.extra or [],
                field=fields[0] if fields else None,
            )
        return error_page(request, 422, "Invalid input", message)
    return http_error_handler(request, exc)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    detail = exc.detail or _TITLES.get(status, "Error")
    headers = getattr(exc, "headers", None) or {}
    if wants_json(request):
        if status == 400 and "JSON" in detail:
            detail = f"The request body is not valid JSON: {detail}"
        response = problem(status, detail)
        response.headers.update(headers)
        return response
    if status == 401:
        return Response(
            content="",
            status_code=303,
            # Keep the query string: a one-click approval link carries its token there.
            headers={"Location": "/login?next=" + quote(_path_and_query(request), safe="/")},
        )
    return error_page(request, status, _TITLES.get(status, "Error"), detail)


def _path_and_query(request: Request[Any, Any, Any]) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """503 with Retry-After: the database is down, restarting, failing over or too slow. A write
    cut off at its commit may or may not have been saved; repeat it with its Idempotency-Key."""
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, describe(exc)
    )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if wants_json(request):
        response = problem(503, DATABASE_DOWN, kind="database-unavailable")
        response.headers.update(headers)
        return response
    page = error_page(request, 503, "Service unavailable", DATABASE_DOWN)
    page.headers.update(headers)
    return page


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_unavailable(exc):
        return database_unavailable(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if wants_json(request):
        return problem(500, "Something went wrong on our side; nothing was changed.")
    return error_page(request, 500, "Something went wrong", "Nothing was changed. Try again.")


def error_page(
    request: Request[Any, Any, Any], status: int, title: str, detail: str, reasons: Any = ()
) -> Response[Any]:
    return Template(
        "error.html",
        context={"status": status, "title": title, "detail": detail, "reasons": list(reasons)},
        status_code=status,
        media_type=MediaType.HTML,
    )  # type: ignore[return-value]
