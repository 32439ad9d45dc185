"""A warning attributed to our own code fails the test run (pyproject.toml's `filterwarnings`).

A warning is attributed to the module of the frame its `stacklevel` points at. Code compiled
here with a `__name__` of ours stands in for a module of ours; `-W` on the command line
overrides the configured filters, so these checks only make sense without it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
from litestar.di import Provide
from litestar.exceptions import LitestarWarning
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SADeprecationWarning


@pytest.fixture(autouse=True)
def configured_filters_only(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("pythonwarnings"):
        pytest.skip("-W on the command line replaces the configured warning filters")


def defined_in(module: str, source: str, name: str) -> Callable[..., Any]:
    """The function `name` from `source`, as if it were written in `module`."""
    namespace: dict[str, Any] = {"__name__": module}
    exec(compile(source, f"<{module}>", "exec"), namespace)
    return namespace[name]  # type: ignore[no-any-return]


@pytest.mark.parametrize("module", ["booking.bookings.example", "billing.example", "tests.x"])
def test_a_warning_from_our_code_is_an_error(module: str) -> None:
    warn = defined_in(
        module,
        "import warnings\ndef warn():\n    warnings.warn('ours', UserWarning, stacklevel=1)\n",
        "warn",
    )
    with pytest.raises(UserWarning, match="ours"):
        warn()


def test_a_warning_from_elsewhere_is_not() -> None:
    warn = defined_in(
        "somebody.else",
        "import warnings\ndef warn():\n    warnings.warn('theirs', UserWarning, stacklevel=1)\n",
        "warn",
    )
    with warnings.catch_warnings(record=True):
        warn()


def test_a_sqlalchemy_deprecation_is_attributed_to_our_call() -> None:
    """SQLAlchemy points its deprecations at the caller: `Result.tuples()` called from our code
    fails the run rather than warning somewhere in SQLAlchemy."""
    run = defined_in(
        "booking.bookings.example",
        "def run(connection, sql):\n    return list(connection.execute(sql).tuples())\n",
        "run",
    )
    with (
        create_engine("sqlite://").connect() as connection,
        pytest.raises(SADeprecationWarning, match="tuples"),
    ):
        run(connection, text("SELECT 1, 2"))


def test_litestars_sync_to_thread_warning_on_our_dependency_is_an_error() -> None:
    provide = defined_in(
        "booking.web.example",
        "def dependency():\n    return 1\ndef provide(Provide):\n    return Provide(dependency)\n",
        "provide",
    )
    with pytest.raises(LitestarWarning, match="sync_to_thread"):
        provide(Provide)
