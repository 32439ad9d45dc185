"""The JSON log line (booking/logs.py): one object, extras as fields, nothing refused."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

from booking.logs import JsonFormatter


class Opaque:
    def __str__(self) -> str:
        return "opaque thing"


def test_a_line_carries_its_extras_as_they_are_and_anything_else_as_text() -> None:
    record = logging.LogRecord("booking.access", logging.INFO, __file__, 1, "%s ok", ("Zoë",), None)
    record.status = 201
    record.duration_ms = 3.2
    record.thing = Opaque()
    record.amount = Decimal("4.50")
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "Zoë" in line  # not escaped
    assert entry["message"] == "Zoë ok"
    assert (entry["level"], entry["logger"]) == ("info", "booking.access")
    assert (entry["status"], entry["duration_ms"]) == (201, 3.2)
    assert entry["thing"] == "opaque thing"
    assert entry["amount"] in ("4.50", 4.5)
    assert entry["time"].endswith("+00:00")
