"""Percentiles and summaries."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100): a value that was actually observed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """p50/p95/p99/max of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    out: dict[str, Any] = {"n": len(ms)}
    for p in (50, 95, 99):
        v = percentile(ms, p)
        out[f"p{p}"] = round(v, 2) if v is not None else None
    out["max"] = round(max(ms), 2) if ms else None
    out["mean"] = round(sum(ms) / len(ms), 2) if ms else None
    return out


def ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, digits)


def postgres_cpu() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (all of them, ended
    backends included: the server is the benchmark's alone while it measures), from
    /proc/PID/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended while we looked
            continue
        if text[text.index("(") + 1 : text.rindex(")")].startswith("postgres"):
            fields = text[text.rindex(")") + 2 :].split()
            # utime, stime, and cutime, cstime: the postmaster's reaped backends (a connection
            # that has closed) are counted there.
            total += sum(int(f) for f in fields[11:15])
    return total / tick
