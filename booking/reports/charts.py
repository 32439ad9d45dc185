"""A report's chart as an SVG image (pygal), drawn on the server: no JavaScript, no tooltips.
The page shows it as an `<img>` from a `data:` URL (the site's CSP forbids inline styles,
which pygal's SVG carries) with a text alternative; the same figures are in the table."""

from __future__ import annotations

import base64
import math
import re

import pygal
from pygal.style import Style

from booking.reports.views import Chart

# Charts of whole things (people, cancellations): whole numbers on the axis.
COUNTED = frozenset({"people", "cancellations"})
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
# Dark text on white, the site's blue and its darker and lighter partners: each bar colour
# differs from white by at least 3:1.
_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#555555",
    colors=("#1d5fa8", "#b54708", "#2e7d32", "#6a1b9a", "#9e1c1c", "#4e5d6c"),
    font_family="system-ui, sans-serif",
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=13,
)


def chart_svg(chart: Chart) -> str:
    """The chart as an SVG document (its `<title>` is the chart's title)."""
    rows = max(len(chart.labels), 1)
    drawing = pygal.HorizontalBar(
        style=_STYLE,
        title=chart.title,
        width=900,
        height=max(260, 120 + rows * 34 * max(len(chart.series), 1)),
        js=(),
        tooltip_fancy_mode=False,
        disable_xml_declaration=True,
        show_legend=len(chart.series) > 1,
        legend_at_bottom=True,
        print_values=True,
        print_zeroes=False,
        value_formatter=_figure,
        truncate_label=40,
        no_data_text="Nothing to show",
        range=(0, 100) if chart.unit == "percent" else None,
    )
    # A horizontal chart draws its first label at the bottom: reversed, it reads top to bottom
    # in the table's order.
    if chart.unit in COUNTED:
        drawing.y_labels = _whole_ticks(chart)
    drawing.x_labels = list(reversed(chart.labels))
    for name, values in chart.series:
        drawing.add(name, list(reversed(values)))
    return _SCRIPT.sub("", drawing.render(is_unicode=True))


def _whole_ticks(chart: Chart) -> list[int]:
    """Whole numbers on the axis of a chart that counts (no 0.1 of a person)."""
    top = max((v or 0 for _, values in chart.series for v in values), default=0)
    step = max(1, math.ceil(top / 10))
    return list(range(0, int(top) + step + 1, step))


def _figure(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def chart_data_url(chart: Chart) -> str:
    encoded = base64.b64encode(chart_svg(chart).encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def chart_description(chart: Chart) -> str:
    """The image's text alternative: what it shows, and where its figures are."""
    if not chart.labels or not chart.series:
        return f"{chart.title}: nothing to show."
    names = " and ".join(name for name, _ in chart.series)
    return (
        f"Bar chart: {chart.title}. {names} for {len(chart.labels)} "
        f"{'bar' if len(chart.labels) == 1 else 'bars'}; the figures are in the table below."
    )
