"""CSV import with a preview: read a file of people or of units, say what importing it would do
(each row to create, to update with what changes, unchanged, or bad with its line number and
reason) without writing, then write it all in one transaction through the upserts.

A file with any bad row is refused whole: the file is the list the administrator means, and
importing part of it would leave them working out which half arrived. A column the file leaves
out keeps each existing row's value; an empty cell clears it (staff type and roles fall back to
payroll and learner); the preview shows every change before anything is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from booking.clock import Clock
from booking.db import Database
from booking.kernel import audit, tx
from booking.kernel.actors import Actor
from booking.kernel.errors import InvalidError

MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 2_000


@dataclass(frozen=True, slots=True)
class Change:
    label: str
    was: str
    now: str


@dataclass(frozen=True, slots=True)
class PreviewRow:
    """One row of the file: `status` is create, update, unchanged or bad."""

    line: int
    key: str
    status: str
    name: str = ""
    changes: tuple[Change, ...] = ()
    reason: str = ""


@dataclass(slots=True)
class ImportPreview:
    """What importing the file would do. `inputs` are the rows as the upsert takes them."""

    kind: str
    rows: list[PreviewRow]
    inputs: list[Any] = field(default_factory=list)

    def having(self, status: str) -> list[PreviewRow]:
        return [r for r in self.rows if r.status == status]

    @property
    def bad(self) -> list[PreviewRow]:
        return self.having("bad")

    @property
    def changes_anything(self) -> bool:
        return any(r.status in ("create", "update") for r in self.rows)


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True, slots=True)
class CsvRows:
    """The file's data rows (line number, cells by column) and the columns its header names."""

    rows: list[tuple[int, dict[str, str]]]
    columns: frozenset[str]
    short: dict[int, str]


def _column(name: str | None) -> str:
    return (name or "").strip().lower().replace(" ", "_").replace("-", "_")


def read_csv(
    text: str, columns: Sequence[str], required: Sequence[str], aliases: dict[str, str]
) -> CsvRows:
    """The rows of a CSV file with a header row; refused whole (on `file`) when it is too
    large, empty, names an unknown column or leaves out a required one."""
    if len(text.encode("utf-8", "replace")) > MAX_IMPORT_BYTES:
        raise InvalidError("The file is larger than 1 MB; split it into smaller files.", "file")
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = [aliases.get(_column(h), _column(h)) for h in next(reader, [])]
    if not any(header):
        raise InvalidError("The file is empty: it needs a header row naming its columns.", "file")
    unknown = [h or "(blank)" for h in header if h not in columns]
    if unknown:
        raise InvalidError(
            f"Unknown column {', '.join(unknown)}; the columns are {', '.join(columns)}.", "file"
        )
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidError(f"The header row needs the column {', '.join(missing)}.", "file")
    if len(set(header)) != len(header):
        raise InvalidError("A column is named twice in the header row.", "file")
    return _data_rows(reader, header)


def _data_rows(reader: Any, header: list[str]) -> CsvRows:
    rows: list[tuple[int, dict[str, str]]] = []
    short: dict[int, str] = {}
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise InvalidError(
                    f"The file has more than {MAX_IMPORT_ROWS} rows; split it.", "file"
                )
            line = reader.line_num
            rows.append((line, {h: c.strip() for h, c in zip(header, cells, strict=False)}))
            if len(cells) != len(header):
                short[line] = f"it has {len(cells)} cells; the header row has {len(header)}."
    except csv.Error as exc:
        raise InvalidError(
            f"Line {reader.line_num} cannot be read as CSV: {exc}.", "file"
        ) from None
    if not rows:
        raise InvalidError("The file has a header row but no rows to import.", "file")
    return CsvRows(rows, frozenset(header), short)


def first_lines(keys: Sequence[tuple[int, str]]) -> dict[str, int]:
    """Each key's first line, to name a repeat."""
    seen: dict[str, int] = {}
    for line, key in keys:
        seen.setdefault(key, line)
    return seen


def outcome_of(statuses: Sequence[str]) -> ImportOutcome:
    return ImportOutcome(
        created=statuses.count("created"),
        updated=statuses.count("updated"),
        unchanged=statuses.count("unchanged"),
    )


async def record_import(
    s: AsyncSession, action: str, actor: Actor, outcome: ImportOutcome, rows: int, now: Any
) -> None:
    await audit.record(
        s,
        action=action,
        now=now,
        actor=actor,
        target=f"CSV file of {rows} row{'s' if rows != 1 else ''}",
        details={
            "created": outcome.created,
            "updated": outcome.updated,
            "unchanged": outcome.unchanged,
        },
    )


async def import_when_clean(
    db: Database,
    clock: Clock,
    actor: Actor,
    preview: ImportPreview,
    *,
    action: str,
    upsert: Callable[[AsyncSession], Awaitable[Sequence[Any]]],
) -> tuple[ImportPreview, ImportOutcome | None]:
    """Write the previewed rows in one transaction (`upsert`, then the audit row `action`) when
    no row is bad; otherwise write nothing and answer the preview with no outcome."""
    if preview.bad:
        return preview, None

    async def write(s: AsyncSession) -> ImportOutcome:
        outcome = outcome_of([r.status for r in await upsert(s)])
        await record_import(s, action, actor, outcome, len(preview.rows), clock.now())
        return outcome

    return preview, await tx.run(db, write)
