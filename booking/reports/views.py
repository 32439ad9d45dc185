"""What a report hands the pages and the downloads: tables of typed cells and a chart's
figures. Plain data, no ORM objects; the same rows feed the page, the CSV and the XLSX."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

# A cell: text, a whole number, a percentage or an amount (Decimal, in major units), a date,
# or None (nothing to show: a percentage of nothing).
Cell = str | int | float | Decimal | date | None


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    # text | number | percent | money | date: how the page shows it (the files keep the type).
    kind: str = "text"


@dataclass(frozen=True, slots=True)
class Table:
    caption: str
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True, slots=True)
class Chart:
    """Bars by label; one series or several (a legend names them)."""

    title: str
    labels: list[str]
    series: list[tuple[str, list[float | None]]]
    # What the bars count, for the chart's text alternative ("percent", "people", "GBP").
    unit: str


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    title: str
    tables: list[Table]
    chart: Chart
    # How the figures are counted, in a sentence or two each.
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.tables[0].rows


def percent(part: int, whole: int) -> float | None:
    """Rounded half up to one decimal place; None when there is nothing to divide by."""
    if whole <= 0:
        return None
    return float((Decimal(200 * part * 10 + whole) // Decimal(2 * whole)) / 10)
