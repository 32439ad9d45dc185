"""The pure domain packages import only the standard library and their own package.

import-linter (`lint-imports`, run by ./scripts/test) holds the layers between our packages; it
cannot say "the standard library only", so that rule is read from the source here.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = {"booking.domain": ROOT / "booking/domain", "billing.domain": ROOT / "billing/domain"}


def imported_modules(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return found


def foreign_imports(package: str, folder: Path, root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted(folder.rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or module.startswith(package):
                continue
            bad.append(f"{path.relative_to(root)} imports {module}")
    return bad


@pytest.mark.parametrize("package", sorted(DOMAINS))
def test_a_domain_package_imports_only_the_standard_library(package: str) -> None:
    assert foreign_imports(package, DOMAINS[package]) == []


def test_the_check_sees_a_third_party_import(tmp_path: Path) -> None:
    (tmp_path / "rule.py").write_text("import sqlalchemy\nfrom datetime import date\n")
    assert foreign_imports("booking.domain", tmp_path, tmp_path) == ["rule.py imports sqlalchemy"]
