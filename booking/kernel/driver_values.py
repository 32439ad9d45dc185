"""Values between the driver and the model (`kernel.driver`): what SQLAlchemy's result
processing would do, for the columns the lean paths read. SQLite keeps a timestamp as text in
UTC and a boolean as 0/1 (as SQLAlchemy stores them) and gives JSON as text; a row becomes a
transient model instance without the constructor's attribute events."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, Date, inspect

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"

Row = Mapping[str, Any]
M = TypeVar("M")


def stored_time(value: datetime) -> str:
    """A timestamp as SQLAlchemy keeps it in SQLite: UTC, no offset, microseconds."""
    return value.astimezone(UTC).strftime(_SQLITE_TIME)


def read_time(value: Any) -> datetime | None:
    """A timestamp as read: a datetime from asyncpg, text from SQLite or from inside JSON."""
    if value is None or isinstance(value, datetime):
        return value.astimezone(UTC) if value is not None and value.tzinfo else value
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def entity(model: type[M], row: Row, prefix: str, *, sqlite: bool) -> M:
    """A transient instance of `model` (never added to a session) from the row's columns named
    `prefix` + attribute: for the code that takes model objects (views, domain facts). Its
    values go straight into the instance's dict, as the ORM's loading does, not through the
    attribute events a constructor fires (`transient`)."""
    same, converted = _columns(model, prefix, sqlite=sqlite)
    values = {key: row[column] for key, column in same}
    for key, column, convert in converted:
        values[key] = convert(row[column])
    return transient(model, values)


def transient(model: type[M], values: dict[str, Any]) -> M:
    """`model(**values)` without the attribute events the constructor fires for each value
    (a fifth of the lean booking's CPU under the profiler): the values go straight into the
    instance's dict, as the ORM's own loading puts them. For objects never added to a session."""
    manager = _MANAGERS.get(model)
    if manager is None:
        manager = _MANAGERS[model] = inspect(model).class_manager
    instance: M = manager.new_instance()
    instance.__dict__.update(values)
    return instance


_MANAGERS: dict[type[Any], Any] = {}
_COLUMNS: dict[
    tuple[type[Any], str, bool],
    tuple[list[tuple[str, str]], list[tuple[str, str, Callable[[Any], Any]]]],
] = {}


def _columns(
    model: type[Any], prefix: str, *, sqlite: bool
) -> tuple[list[tuple[str, str]], list[tuple[str, str, Callable[[Any], Any]]]]:
    """The model's attributes with the row's column for each: those taken as they are, and
    those converted (`_converter`)."""
    found = _COLUMNS.get((model, prefix, sqlite))
    if found is None:
        pairs = _converters(model, sqlite=sqlite)
        found = _COLUMNS[(model, prefix, sqlite)] = (
            [(key, prefix + key) for key, convert in pairs if convert is _same],
            [(key, prefix + key, convert) for key, convert in pairs if convert is not _same],
        )
    return found


_CONVERTERS: dict[tuple[type[Any], bool], list[tuple[str, Callable[[Any], Any]]]] = {}


def _converters(model: type[Any], *, sqlite: bool) -> list[tuple[str, Callable[[Any], Any]]]:
    found = _CONVERTERS.get((model, sqlite))
    if found is None:
        found = _CONVERTERS[(model, sqlite)] = [
            (attr.key, _converter(attr.columns[0].type, sqlite=sqlite))
            for attr in inspect(model).column_attrs
        ]
    return found


def _same(value: Any) -> Any:
    return value


def _converter(type_: Any, *, sqlite: bool) -> Callable[[Any], Any]:
    if isinstance(type_, DateTimeUTC):
        return read_time
    if not sqlite:
        return _same
    if isinstance(type_, JSON):
        return _read_json
    if isinstance(type_, Boolean):
        return lambda v: None if v is None else bool(v)
    if isinstance(type_, Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    return _same


def _read_json(value: Any) -> Any:
    return json.loads(value) if value is not None else None
