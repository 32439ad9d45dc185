"""Checks that the OpenAPI document tells the truth: every success answer of the operations
watched is validated, as it arrives, against the schema the document gives for its status and
media type (JSON Schema 2020-12, the `$ref`s resolved into `components.schemas`).

Use: `contract = Contract(app, WATCHED)`; `http.event_hooks["response"] = [contract.hook]`; make
real requests; then `contract.seen` holds the operations that answered and were checked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from litestar import Litestar

BINARY = {"type": "string", "format": "binary"}


def document(app: Litestar) -> dict[str, Any]:
    doc: dict[str, Any] = app.openapi_schema.to_schema()
    return doc


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema itself, or the component it refers to."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def untyped(doc: dict[str, Any], schema: dict[str, Any], where: str = "") -> list[str]:
    """Every place under `schema` that is an object (or anything) whose fields are not named:
    `{}`, or `type: object` without properties and without a schema for its values."""
    seen: set[str] = set()

    def walk(s: dict[str, Any], at: str) -> list[str]:
        if "$ref" in s:
            name = s["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return []
            seen.add(name)
            return walk(resolve(doc, s), name)
        values = s.get("additionalProperties")
        found = []
        if s == {} or (s.get("type") == "object" and not s.get("properties") and not values):
            found.append(at or "<answer>")
        for key, sub in s.get("properties", {}).items():
            found += walk(sub, f"{at}.{key}")
        for key in ("oneOf", "anyOf", "allOf"):
            for sub in s.get(key, []):
                found += walk(sub, at)
        if isinstance(s.get("items"), dict):
            found += walk(s["items"], f"{at}[]")
        if isinstance(values, dict) and values:
            found += walk(values, f"{at}{{}}")
        return found

    return walk(schema, where)


class Contract:
    def __init__(self, app: Litestar, watched: Iterable[tuple[str, str]]) -> None:
        self.doc = document(app)
        self.watched = set(watched)
        self.patterns = [(m, t, _pattern(t)) for m, t in self.watched]
        self.seen: set[tuple[str, str]] = set()

    def operation_of(self, method: str, path: str) -> tuple[str, str] | None:
        for m, template, pattern in self.patterns:
            if m == method and pattern.match(path):
                return m, template
        return None

    def success_schema(self, method: str, template: str, status: int, media: str) -> Any:
        answers = self.doc["paths"][template][method.lower()]["responses"]
        assert str(status) in answers, f"{method} {template}: {status} is not documented"
        content = answers[str(status)].get("content") or {}
        assert media in content, f"{method} {template}: {media} is not in {sorted(content)}"
        return content[media]["schema"]

    def validate(self, schema: dict[str, Any], body: Any) -> None:
        Draft202012Validator({**schema, "components": self.doc["components"]}).validate(body)

    async def hook(self, response: httpx.Response) -> None:
        found = self.operation_of(response.request.method, response.request.url.path)
        if found is None or not 200 <= response.status_code < 300:
            return
        await response.aread()
        media = response.headers.get("content-type", "").split(";")[0].strip()
        schema = self.success_schema(*found, response.status_code, media)
        if media == "application/json":
            self.validate(schema, response.json())
        else:
            assert schema == BINARY, f"{found}: {media} answered, documented as {schema}"
        self.seen.add(found)
