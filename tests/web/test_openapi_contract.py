"""The OpenAPI document is a contract a client can be generated from.

It is valid OpenAPI 3.1 (openapi-spec-validator); every operation has a stable, unique
`operationId`, a tag the document describes, the bearer security scheme, and its problem
responses as `application/problem+json` with the `Problem` schema; every success answer is typed
(no bare object, no `Any`), and files are documented with their own media types.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from openapi_spec_validator import validate

from booking.app import create_app
from booking.domain import vocabulary as v
from tests import support

METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('contract') / 'unused.db'}"
    return create_app(support.settings_for(url))


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_operation_has_a_stable_unique_id_and_a_described_tag(
    document: dict[str, Any],
) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert all(i.isidentifier() and i[0].islower() and "_" not in i for i in ids), ids
    described = {tag["name"] for tag in document["tags"]}
    for method, path, op in operations(document):
        assert op.get("tags"), f"{method} {path} has no tag"
        assert set(op["tags"]) <= described, f"{method} {path}: {op['tags']}"
    # The handlers' names, so a renamed handler shows here (generated clients name methods so).
    by_path = {(m, p): op["operationId"] for m, p, op in operations(document)}
    assert by_path[("POST", "/api/v1/sessions/{session_id}/bookings")] == "createBooking"
    assert by_path[("GET", "/api/v1/courses")] == "listCourses"
    assert by_path[("GET", "/api/v1/records")] == "recordsFeed"


def test_every_operation_needs_the_bearer_token(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, path, op in operations(document):
        assert {"bearer": []} in op["security"], f"{method} {path}"
    records = [
        (m, p) for m, p, op in operations(document) if {"bearer": ["records"]} in op["security"]
    ]
    assert sorted(records) == [("GET", "/api/v1/records"), ("POST", "/api/v1/records/completions")]


def test_every_problem_is_documented_as_problem_json(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        statuses = {int(s) for s in op["responses"] if s[0] in "45"}
        assert {401, 403, 503} <= statuses, f"{method} {path}: {sorted(statuses)}"
        if "{" in path:
            assert 404 in statuses, f"{method} {path}"
        if method != "GET":
            assert {400, 409, 413, 422} <= statuses, f"{method} {path}: {sorted(statuses)}"
        for status in statuses:
            content = op["responses"][str(status)]["content"]
            assert list(content) == ["application/problem+json"], f"{method} {path} {status}"
            assert content["application/problem+json"]["schema"] == PROBLEM
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert "reasons" in problem["properties"]
    reason = document["components"]["schemas"]["Reason"]
    assert set(reason["required"]) == {"code", "message"}


def test_booking_has_a_429_and_a_refusal_example(document: dict[str, Any]) -> None:
    book = document["paths"]["/api/v1/sessions/{session_id}/bookings"]["post"]
    assert "429" in book["responses"]
    example = book["responses"]["409"]["content"]["application/problem+json"]["examples"]
    (value,) = [e["value"] for e in example.values()]
    assert value["reasons"][0]["code"] == "already_booked"


def untyped(schema: Any, components: dict[str, Any], seen: set[str], where: str) -> list[str]:
    """Every place under `schema` that is an object of unknown shape (`type: object` with no
    properties and no typed `additionalProperties`), following `$ref`s once each."""
    if isinstance(schema, list):
        return [u for i, s in enumerate(schema) for u in untyped(s, components, seen, where)]
    if not isinstance(schema, dict):
        return []
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return untyped(components[name], components, seen, name)
    found = []
    types = schema.get("type")
    is_object = types == "object" or (isinstance(types, list) and "object" in types)
    extra = schema.get("additionalProperties")
    if is_object and not schema.get("properties") and not (isinstance(extra, dict) and extra):
        found.append(where)
    for key in ("properties",):
        for name, sub in (schema.get(key) or {}).items():
            found += untyped(sub, components, seen, f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            found += untyped(schema[key], components, seen, f"{where}[]")
    for key in ("oneOf", "anyOf", "allOf"):
        found += untyped(schema.get(key) or [], components, seen, where)
    return found


def test_every_success_answer_is_typed(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    loose = []
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            if not status.startswith("2"):
                continue
            for media, content in (response.get("content") or {}).items():
                schema = content.get("schema", {})
                if media == "application/json":
                    assert schema.get("type") != "string", f"{method} {path}: a file as JSON"
                found = untyped(schema, components, set(), f"{method} {path}")
                loose += [f"{method} {path} → {where}" for where in found]
    assert not loose, "\n".join(sorted(set(loose)))


def test_files_are_documented_with_their_media_types(document: dict[str, Any]) -> None:
    files = {
        "/api/v1/sessions/{session_id}/roster.csv": "text/csv",
        "/api/v1/sessions/{session_id}/sign-in-sheet.pdf": "application/pdf",
        "/api/v1/finance/journal.csv": "text/csv",
        "/api/v1/certificates/{certificate_id}": "application/pdf",
    }
    for path, media in files.items():
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert media in content, f"{path}: {list(content)}"
        assert content[media]["schema"]["type"] == "string", path


def test_every_request_body_is_typed(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    loose = []
    for method, path, op in operations(document):
        for media, content in (op.get("requestBody") or {}).get("content", {}).items():
            schema = content.get("schema", {})
            found = untyped(schema, components, set(), f"{method} {path} ({media})")
            loose += found
    assert not loose, "\n".join(sorted(set(loose)))


def test_closed_sets_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]

    def enum_of(component: str, field: str) -> set[str]:
        prop = schemas[component]["properties"][field]
        options = prop.get("oneOf", [prop])
        return {v for o in options for v in o.get("enum", [])}

    assert enum_of("BookingView", "state") == set(v.values(v.BookingStateName))
    assert enum_of("SessionView", "status") == set(v.values(v.SessionStatus))
    assert enum_of("SessionView", "waitlist_mode") == set(v.values(v.WaitlistMode))
    assert enum_of("SessionIn", "waitlist_mode") == set(v.values(v.WaitlistMode))
    assert enum_of("DecisionIn", "decision") == set(v.values(v.Decision))
    assert enum_of("PersonIn", "staff_type") == set(v.values(v.StaffType))
    assert enum_of("MarkIn", "status") == set(v.values(v.AttendanceMark))
