"""The project's documents stand on their own: they point only at files in the project.

The developers' design notes live outside the repository; a newcomer who clones it does not have
them, so the README, docs/ and the code must not send anyone there. Every relative link in the
README and docs/ must lead to a file that exists.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from booking import PROJECT_ROOT

# Pointers to the private design folder, however they are spelled.
PRIVATE = re.compile(
    r"\.\./shared|shared/design|design/(API|ARCHITECTURE|NOTES|PRODUCT|STYLE)\.md", re.IGNORECASE
)
TEXT_SUFFIXES = {".md", ".py", ".toml", ".ini", ".cfg", ".txt", ".html", ".j2", ".sh", ".yml"}
SKIP_DIRS = {".venv", ".git", "test-artifacts", "node_modules", "__pycache__"}
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def project_files() -> list[Path]:
    """The project's own text files: documents, code, templates, scripts (not this test)."""
    found = []
    for folder, dirs, names in os.walk(PROJECT_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        for name in names:
            path = Path(folder) / name
            if path.resolve() == Path(__file__).resolve():
                continue
            top = path.relative_to(PROJECT_ROOT).parts[0]
            if path.suffix in TEXT_SUFFIXES or top in ("scripts", ".ci"):
                found.append(path)
    return found


def documents() -> list[Path]:
    return [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").rglob("*.md"))]


def test_no_file_points_at_the_private_design_notes() -> None:
    files = project_files()
    assert PROJECT_ROOT / "README.md" in files and PROJECT_ROOT / "docs" / "api.md" in files
    offenders = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if PRIVATE.search(line):
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert not offenders, "points outside the project:\n" + "\n".join(offenders)


@pytest.mark.parametrize("line", ["see ../shared/design/API.md", "The contract is design/API.md"])
def test_the_check_catches_the_old_pointers(line: str) -> None:
    assert PRIVATE.search(line)


@pytest.mark.parametrize("document", documents(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_relative_links_lead_to_files_in_the_project(document: Path) -> None:
    for target in MARKDOWN_LINK.findall(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL, or an anchor in the same page
        path = (document.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(PROJECT_ROOT), f"{document.name} links outside: {target}"
        assert path.exists(), f"{document.name} links to a missing file: {target}"
