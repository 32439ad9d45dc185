"""docs/api.md, the users' guide to the JSON API, stays true to the app.

Every operation in the OpenAPI document the app serves is described there under its exact method
and path (`GET /api/v1/courses/{course_id}`), and so are the public endpoints outside the API
(health, readiness, the calendar feed, the Stripe webhook); every endpoint it describes, and every
`/api/v1` path it mentions anywhere (curl examples included), is one the app serves.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from booking import PROJECT_ROOT
from booking.app import create_app
from tests import support

DOC = PROJECT_ROOT / "docs" / "api.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# An endpoint as the guide writes it: a code span that starts with a method and a path.
ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s?#]*)")
# Any API path in the text, in code spans, tables, prose or curl examples.
API_PATH = re.compile(r"/api/v1(?:/[A-Za-z0-9_.{}:-]+)*")
# Public endpoints outside /api/v1, left out of the OpenAPI document: as the guide writes them →
# the route that serves them.
OUTSIDE_API = {
    ("GET", "/health"): "/health",
    ("GET", "/ready"): "/ready",
    ("GET", "/calendar/{token}.ics"): "/calendar/{filename:str}",
    ("POST", "/webhooks/stripe"): "/webhooks/stripe",
    # Certificates (issue 18): the public verification page.
    ("GET", "/certificates/{code}"): "/certificates/{code:str}",
}
# The OpenAPI document itself: served, but not an operation in it.
SCHEMA = {("GET", "/api/v1/openapi.json")}
# The OpenAPI viewer's catch-all would match any /api/v1 path: never evidence that one exists.
CATCH_ALL = "/api/v1/{path:str}"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    # Building the app touches no database (the engine is made in the lifespan).
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('api-doc') / 'unused.db'}"
    return create_app(support.settings_for(url))


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def operations(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) of every operation in the OpenAPI document the app serves."""
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method.upper() in METHODS
    }


def routes(app: Litestar) -> list[tuple[set[str], str, re.Pattern[str]]]:
    """Every route as (methods, path as the route table writes it, pattern matching its URLs)."""
    table = []
    for route in app.routes:
        if route.path == CATCH_ALL:
            continue
        parts = re.split(r"(\{[^}]+\})", route.path)
        pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
        methods = set(getattr(route, "methods", ()))
        table.append((methods, route.path, re.compile(pattern)))
    return table


def served(app: Litestar, path: str, method: str | None = None) -> bool:
    return any(
        pattern.fullmatch(path) and (method is None or method in methods)
        for methods, _, pattern in routes(app)
    )


def documented(doc: str) -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2).rstrip(".,;:)")) for m in ENDPOINT.finditer(doc)}


def test_every_operation_in_the_openapi_document_is_in_the_guide(app: Litestar, doc: str) -> None:
    missing = sorted(operations(app) - documented(doc))
    assert not missing, f"docs/api.md does not describe: {missing}"


def test_every_public_endpoint_outside_the_api_is_in_the_guide(app: Litestar, doc: str) -> None:
    for (method, written), route_path in OUTSIDE_API.items():
        assert (method, written) in documented(doc), f"docs/api.md lacks `{method} {written}`"
        assert any(method in methods and path == route_path for methods, path, _ in routes(app)), (
            f"the app no longer serves {method} {route_path}"
        )


def test_every_endpoint_the_guide_describes_exists(app: Litestar, doc: str) -> None:
    api = operations(app)
    for method, path in sorted(documented(doc)):
        if (method, path) in SCHEMA:
            assert served(app, path, method), f"the app no longer serves {method} {path}"
        elif path.startswith("/api/v1"):
            # Written exactly as the OpenAPI document writes it (placeholders included).
            assert (method, path) in api, f"docs/api.md describes {method} {path}: not served"
        else:
            assert (method, path) in OUTSIDE_API, (
                f"docs/api.md describes {method} {path}: not an API endpoint; add it to "
                "OUTSIDE_API here if it is public"
            )


def test_every_api_path_the_guide_mentions_exists(app: Litestar, doc: str) -> None:
    mentioned = {m.group(0).rstrip(".,;:") for m in API_PATH.finditer(doc)}
    assert mentioned, "docs/api.md mentions no API path at all"
    unknown = sorted(p for p in mentioned if not served(app, p))
    assert not unknown, f"docs/api.md mentions paths the app does not serve: {unknown}"


def test_the_check_catches_a_path_that_does_not_exist(app: Litestar) -> None:
    """The matching is not vacuous: a made-up path and a wrong method are caught."""
    assert served(app, "/api/v1/sessions/42/bookings", "POST")
    assert not served(app, "/api/v1/sessions/42/bookings", "DELETE")
    assert not served(app, "/api/v1/sessions/42/no-such-thing")
    assert ("GET", "/api/v1/courses/{course_id}") in operations(app)


def test_the_readme_links_the_guide() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/api.md)" in readme
    assert Path(DOC).is_file()
