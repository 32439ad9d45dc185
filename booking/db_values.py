"""Values the database would refuse, refused before it sees them, with a sentence naming the field.

PostgreSQL cannot store a NUL character in text (nor `\\u0000` in JSONB), refuses a string longer
than its `varchar(n)` and a number outside its column's integer type; SQLite overflows on an
integer beyond 64 bits. Each of those used to surface as a driver exception (a 500). Every
statement's parameters are checked here against the type of the column they are bound to, so the
limits come from the models themselves and hold for every way in: the JSON API, the pages, CSV
imports and the CLI. The request edges check the same limits earlier, to name the exact field
(booking/web/api/schemas.py); this is the net under all of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Integer, SmallInteger, String, Text, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator, TypeEngine

from booking.kernel.errors import InvalidError

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
INT16 = (-(2**15), 2**15 - 1)
_SUFFIX = re.compile(r"(_m?\d+)+$")


class BoundedText(TypeDecorator[str]):
    """TEXT in the database (no migration), with a length the application keeps to."""

    impl = Text
    cache_ok = True

    def __init__(self, max_length: int) -> None:
        super().__init__()
        self.max_length = max_length


def install(engine: AsyncEngine) -> None:
    event.listen(engine.sync_engine, "before_cursor_execute", _check_statement, retval=True)


def _check_statement(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> tuple[str, Any]:
    compiled = getattr(context, "compiled", None)
    if compiled is not None:
        binds = getattr(compiled, "binds", {})
        # A value longer than its column is refused when stored; compared (a lookup), it just
        # matches nothing, as the database would have it.
        storing = bool(getattr(context, "isinsert", False) or getattr(context, "isupdate", False))
        for params in getattr(context, "compiled_parameters", None) or ():
            for name, value in params.items():
                bind = binds.get(name)
                check_value(name, value, bind.type if bind is not None else None, storing=storing)
    return statement, parameters


def max_length_of(type_: TypeEngine[Any] | None) -> int | None:
    if isinstance(type_, BoundedText):
        return type_.max_length
    if isinstance(type_, String):
        return type_.length
    return None


def check_value(
    name: str, value: Any, type_: TypeEngine[Any] | None, *, storing: bool = True
) -> None:
    """Raise InvalidError if `value`, bound as `type_`, is one the database would refuse.

    Runs for every bound value of every statement: the common cases return after a type check
    or two, and the field's name is worked out only when there is something to say."""
    if value is None or value.__class__ in _NOTHING_TO_CHECK:
        return
    if isinstance(value, str):
        if "\x00" in value:
            raise _invalid(name, "contains a NUL character (\\0), which cannot be stored.")
        limit = max_length_of(type_) if storing else None
        if limit is not None and len(value) > limit:
            raise _invalid(name, f"is too long: at most {limit} characters.")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        low, high = _int_range(type_)
        if not low <= value <= high:
            raise _invalid(name, f"is out of range: at most {high}.")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_value(name, key, None, storing=storing)
            check_value(name, item, None, storing=storing)
    elif isinstance(value, _COLLECTIONS):
        item_type = getattr(type_, "item_type", None) if type_ is not None else None
        for item in value:
            check_value(name, item, item_type or type_, storing=storing)


_COLLECTIONS = (list, tuple, set, frozenset)
# Values no column refuses: checked by class, the cheapest test there is.
_NOTHING_TO_CHECK = frozenset({bool, float, datetime, date, time, timedelta, Decimal, UUID, bytes})


def _invalid(bind_name: str, complaint: str) -> InvalidError:
    field = _SUFFIX.sub("", bind_name) or bind_name
    return InvalidError(f"The {field.replace('_', ' ')} {complaint}", field)


def _int_range(type_: TypeEngine[Any] | None) -> tuple[int, int]:
    if isinstance(type_, BigInteger):
        return INT64
    if isinstance(type_, SmallInteger):
        return INT16
    if isinstance(type_, Integer):
        return INT32
    return INT64
