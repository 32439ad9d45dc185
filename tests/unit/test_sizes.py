"""The code stays in pieces a newcomer can read: modules under about 400 lines, functions under
about 60, and no import hidden inside a function to get round the layering.

`lint-imports` (run by ./scripts/test) holds the direction of imports between packages; these
tests hold the size of what is in them. An exception is listed here with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("booking", "billing")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# module → why it may be longer
LONG_MODULES: dict[str, str] = {}
# "module:function" → why it may be longer
LONG_FUNCTIONS: dict[str, str] = {}
# Imports inside functions: only the entry point may import our own code late (so that
# `booking --help` and the worker do not load the web app), and only libraries that are heavy or
# optional may be imported where they are used.
LATE_IMPORTS_OF_OURS = {
    "booking/cli.py": "the entry point loads the app, the worker or the demo only for the "
    "command that needs it",
    "booking/payments/config.py:billing_config imports billing.stripe_gateway": "the Stripe SDK "
    "is loaded only where card payments are configured",
}


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_there_is_code_to_measure() -> None:
    assert len(sources()) > 100


@pytest.mark.parametrize("limit", [MAX_MODULE_LINES])
def test_modules_stay_short(limit: int) -> None:
    long = {
        name(p): n
        for p in sources()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > limit
        and name(p) not in LONG_MODULES
    }
    assert long == {}


def test_functions_stay_short() -> None:
    long = {}
    for path in sources():
        for f in functions(ast.parse(path.read_text(encoding="utf-8"))):
            lines = (f.end_lineno or f.lineno) - f.lineno + 1
            key = f"{name(path)}:{f.name}"
            if lines > MAX_FUNCTION_LINES and key not in LONG_FUNCTIONS:
                long[key] = lines
    assert long == {}


def test_no_import_of_ours_hides_inside_a_function() -> None:
    hidden = []
    for path in sources():
        if name(path) in LATE_IMPORTS_OF_OURS:
            continue
        for f in functions(ast.parse(path.read_text(encoding="utf-8"))):
            for node in ast.walk(f):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                hidden += [
                    late
                    for m in modules
                    if m.split(".")[0] in PACKAGES
                    and (late := f"{name(path)}:{f.name} imports {m}") not in LATE_IMPORTS_OF_OURS
                ]
    assert hidden == []


def test_the_exceptions_are_still_needed() -> None:
    present = {name(p) for p in sources()}
    assert set(LONG_MODULES) <= present
    assert {key.split(":")[0] for key in [*LONG_FUNCTIONS, *LATE_IMPORTS_OF_OURS]} <= present
