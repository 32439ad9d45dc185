"""What the app accepts from outside, checked once for every route before a handler runs.

- Integer ids in paths are 64-bit database keys: a number outside that range names nothing, so
  it answers 404 instead of overflowing in the database driver (`ids_in_range`, the whole
  app's `before_request`: before the body or any dependency is read, as a guard would be, but
  without the copy of the route handler Litestar makes for every guard it calls).
- JSON bodies are decoded strictly into the handler's declared type (`StrictRequest`): `true` is
  not an int and `"5"` is not a number; nesting deeper than the decoder's stack is 400.
- Admin-only routes say so with a guard (`admins_only`), so a caller who may not use them gets
  403 before their body is parsed, even a malformed one.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Empty

from booking import policy
from booking.kernel.actors import Actor
from booking.web.deps import api_actor

# The database keys are BIGINT (INTEGER on SQLite): both are signed 64-bit.
MAX_ID = 2**63 - 1
MIN_ID = -(2**63)

_AT = re.compile(r" - at `\$\.?(.*)`$")


async def ids_in_range(request: Request[Any, Any, Any]) -> None:
    """Every `{…:int}` path parameter must fit a database key, or nothing has that id. (A
    coroutine, though it awaits nothing: Litestar would run a plain function in a worker
    thread, a thread hop on every request.)"""
    for value in request.path_params.values():
        if isinstance(value, int) and not isinstance(value, bool) and not MIN_ID <= value <= MAX_ID:
            raise NotFoundException("There is nothing with this id.")


class StrictRequest(Request[Any, Any, Any]):
    """A request whose JSON body is checked strictly against the handler's `data` type."""

    async def json(self) -> Any:
        if self._json is not Empty:
            return self._json
        body = await self.body()
        field = self.route_handler.parsed_data_field
        target: Any = field.annotation if field is not None else Any
        try:
            value = msgspec.json.decode(body or b"null")
            # Checked strictly (types and every Meta constraint) before Litestar converts the
            # builtins into the handler's argument as usual.
            msgspec.convert(value, type=target, strict=True)
        except RecursionError:
            raise ClientException("The body is nested too deeply to read.") from None
        except msgspec.ValidationError as exc:
            raise _validation_exception(exc) from exc
        except msgspec.DecodeError as exc:
            raise ClientException(str(exc)) from exc
        self._json = self._connection_state.json = value
        return value


def _validation_exception(exc: msgspec.ValidationError) -> ValidationException:
    message = str(exc)
    match = _AT.search(message)
    key = match.group(1) if match else ""
    text = message[: match.start()] if match else message
    error: dict[str, Any] = {"message": text, "source": "body"}
    if key:
        error["key"] = key
    return ValidationException(detail=f"Validation failed for {key or 'the body'}", extra=[error])


async def admins_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """An administrator's route: 401 without a token, 403 for anyone else, before the body."""
    actor: Actor = await api_actor(connection)
    if not policy.can_administer(actor):
        raise PermissionDeniedException("Only administrators can do this.")


__all__ = [
    "MAX_ID",
    "NotAuthorizedException",
    "StrictRequest",
    "admins_only",
    "ids_in_range",
]
