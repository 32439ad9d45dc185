"""Every route, fed the inputs of issue 15 as an administrator, on SQLite and PostgreSQL.

The routes come from the app's own route table, so a new route is fuzzed without anyone
remembering to add it. Each gets: ids beyond 64 bits (and NUL characters) in its path; NUL
characters, huge strings and huge numbers in its query parameters; and, where it takes a body,
deep JSON, the wrong JSON, and every field of a well-formed body replaced in turn by a NUL
string, a huge string, a huge number or the wrong type. Page forms get the fields their own form
pages show, each filled the same ways. No answer may be a 5xx, and an error answer must leave
every table as it was.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.params import ParameterKwarg
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from booking import models, people
from booking.db import Database
from tests import support
from tests.security.test_authorisation_matrix import SCHEMA_ROUTES, Ids, concrete, seed
from tests.web.conftest import cached_app, person_id_of

pytestmark = pytest.mark.asyncio

HUGE_IDS = (10**30, 2**63, -(2**63) - 1)
NUL = "a\x00b"
HUGE_TEXT = "x" * 100_001
HUGE_NUMBERS = (2**31, 2**63, 10**30)
DEEP = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
# Files on disk; an endless event stream; signing the administrator out mid-run.
SKIP_PATHS = {"/static/{file_path:path}", "/live", "/logout"}
SERVICE_PARAMS = {"db", "clock", "actor", "request", "data", "state", "scope", "headers"}


@dataclass
class Probe:
    method: str
    url: str
    json: Any = None
    content: bytes | None = None
    form: dict[str, str] | None = None
    what: str = ""


def routes(app: Litestar) -> Iterator[tuple[str, str, Any]]:
    for route in app.routes:
        if route.path in SCHEMA_ROUTES or route.path in SKIP_PATHS:
            continue
        for handler in getattr(route, "route_handlers", ()):
            for method in sorted(getattr(handler, "http_methods", ())):
                if method not in ("HEAD", "OPTIONS"):
                    yield method, route.path, handler


# --- well-formed bodies, built from the handler's declared type ----------------------------


def example(t: msgspec.inspect.Type) -> Any:
    mi = msgspec.inspect
    if isinstance(t, mi.StructType):
        return {f.encode_name: example(f.type) for f in t.fields}
    if isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return [example(t.item_type)]
    if isinstance(t, mi.DictType):
        return {"key": "value"}
    if isinstance(t, mi.UnionType):
        options = [o for o in t.types if type(o).__name__ not in ("NoneType", "UnsetType")]
        return example(options[0]) if options else None
    if isinstance(t, mi.IntType):
        return 1
    if isinstance(t, mi.BoolType):
        return False
    if isinstance(t, mi.DateTimeType):
        return "2027-04-01T10:00:00+00:00"
    if isinstance(t, mi.DateType):
        return "2027-04-01"
    if isinstance(t, mi.NoneType):
        return None
    return "x"


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*path, i))
    if path:
        yield path, value


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = msgspec.json.decode(msgspec.json.encode(value))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return copy


def bad_values(leaf: Any) -> list[Any]:
    if isinstance(leaf, bool):
        return [1, "true"]
    if isinstance(leaf, int):
        return [10**30, True, "1"]
    if isinstance(leaf, str):
        return [NUL, HUGE_TEXT, 12345]
    if isinstance(leaf, list | dict):
        return ["x", 1]
    return [NUL, HUGE_NUMBERS[-1]]


def body_probes(method: str, url: str, handler: Any) -> Iterator[Probe]:
    field = handler.parsed_data_field
    if field is None:
        return
    for content in (DEEP, DEEP_OBJECT, b'{"unterminated', b"[]", b"null", b'"\\u0000"'):
        yield Probe(method, url, content=content, what=f"body {content[:12]!r}")
    try:
        good = example(msgspec.inspect.type_info(field.annotation))
    except Exception:  # noqa: BLE001 - a body that is not JSON (a form, a file): fuzzed elsewhere
        return
    for path, leaf in leaves(good):
        for bad in bad_values(leaf):
            yield Probe(method, url, json=replaced(good, path, bad), what=f"{path} = {bad!r:.20}")


def query_probes(method: str, path: str, url: str, handler: Any) -> Iterator[Probe]:
    names = []
    for name, param in handler.parsed_fn_signature.parameters.items():
        kwarg = param.kwarg_definition
        if name in SERVICE_PARAMS or "{" + name + ":" in path:
            continue
        if isinstance(kwarg, ParameterKwarg) and (kwarg.header or kwarg.cookie):
            continue
        names.append(kwarg.query if isinstance(kwarg, ParameterKwarg) and kwarg.query else name)
    for name in names:
        # URLs are capped (httpx: 64 kB; servers: the header limit), so a long one, not a huge one.
        for bad in (NUL, "x" * 10_000, str(HUGE_IDS[0]), "-1"):
            sep = "&" if "?" in url else "?"
            yield Probe(method, url + sep + httpx.QueryParams({name: bad}).__str__(), what=name)


def path_probes(method: str, path: str, ids: Ids) -> Iterator[Probe]:
    params = re.findall(r"\{(\w+):(\w+)\}", path)
    for name, kind in params:
        # Past 4,300 digits Python will not even parse the number: still a plain 404.
        for bad in (*HUGE_IDS, "9" * 5000) if kind == "int" else ("a%00b",):
            url = concrete(path, ids).replace(str(_value(name, ids)), str(bad), 1)
            yield Probe(method, url, json={} if method != "GET" else None, what=f"path {name}")


def _value(name: str, ids: Ids) -> Any:
    return {
        "session_id": ids.session,
        "booking_id": ids.booking,
        "course_id": ids.course,
        "request_id": ids.request,
        "outbox_id": ids.outbox,
        "person_id": ids.person,
        "room_id": ids.room,
        "token_id": ids.token,
        "account_request_id": ids.account_request,
        "exemption_id": ids.exemption,
        "evidence_id": ids.evidence,
        "certificate_id": ids.certificate,
        "code": "not-a-certificate-code",
        "program_id": ids.program,
        "webhook_id": ids.webhook,
        "delivery_id": ids.delivery,
        "decision": "approve",
        "filename": f"{ids.feed}.ics",
    }[name]


# --- the database must not change when the answer is an error ------------------------------


def fingerprint_sql(db: Database) -> str:
    tables = sorted(models.Base.metadata.tables)
    return "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)


async def fingerprint(db: Database, sql: str) -> tuple[Any, ...]:
    async with db.reading() as s:
        return tuple((await s.execute(text(sql))).one())


@pytest.fixture
async def admin_clients(db_url: str, world: support.World) -> Any:
    app = cached_app(db_url, demo=True)
    ids = await seed(world)
    token = await people.create_token(world.db, world.clock, email="admin@example.org")
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        await client.get("/login")
        person = await person_id_of(world, "admin@example.org")
        r = await client.post(
            "/login",
            data={"person_id": str(person), "_csrf_token": client.cookies.get("csrftoken") or ""},
            follow_redirects=False,
        )
        assert r.status_code == 303
        yield app, client, token, ids


async def test_every_route_refuses_bad_input_without_a_5xx_or_a_change(
    admin_clients: Any, world: support.World
) -> None:
    app, client, token, ids = admin_clients
    api_headers = {"Authorization": f"Bearer {token}"}
    sql = fingerprint_sql(world.db)
    started = time.monotonic()
    failures: list[str] = []
    form_fields: dict[str, set[str]] = {}
    probes: list[tuple[str, Probe]] = []
    for method, path, handler in routes(app):
        url = concrete(path, ids)
        is_api = path.startswith("/api/")
        probes.extend((path, p) for p in path_probes(method, path, ids))
        probes.extend((path, p) for p in query_probes(method, path, url, handler))
        if is_api:
            probes.extend((path, p) for p in body_probes(method, url, handler))
        elif method == "GET":
            page = await client.get(url, follow_redirects=False)
            names = set(re.findall(r'name="([\w-]+)"', page.text)) - {"_csrf_token"}
            form_fields[url] = names
    all_fields = set().union(*form_fields.values())
    for method, path, _handler in routes(app):
        if path.startswith("/api/") or method != "POST":
            continue
        url = concrete(path, ids)
        # Every field at once, and a NUL in each field its own form page shows (if it has one)
        # in turn: a form answers the first fault it finds, so one at a time reaches them all.
        for bad in (NUL, HUGE_TEXT, str(HUGE_NUMBERS[-1])):
            form = dict.fromkeys(form_fields.get(url) or all_fields, bad)
            probes.append((path, Probe("POST", url, form=form, what="form")))
        for name in sorted(form_fields.get(url, ())):
            probes.append((path, Probe("POST", url, form={name: NUL}, what=f"form {name}")))

    before = await fingerprint(world.db, sql)
    for path, probe in probes:
        headers = dict(api_headers) if path.startswith("/api/") else {}
        kwargs: dict[str, Any] = {}
        if probe.content is not None:
            kwargs["content"] = probe.content
            headers["content-type"] = "application/json"
        elif probe.json is not None:
            kwargs["json"] = probe.json
        elif probe.form is not None:
            kwargs["data"] = {**probe.form, "_csrf_token": client.cookies.get("csrftoken") or ""}
        response = await client.request(
            probe.method, probe.url, headers=headers, follow_redirects=False, **kwargs
        )
        label = f"{probe.method} {path} [{probe.what}]: {response.status_code}"
        if response.status_code >= 500:
            failures.append(f"{label} {response.text[:200]}")
            continue
        if response.status_code >= 400:
            after = await fingerprint(world.db, sql)
            if after != before:
                failures.append(f"{label} changed the database")
            before = after
        else:
            before = await fingerprint(world.db, sql)
        if path.startswith("/api/") and response.status_code >= 400:
            ctype = response.headers.get("content-type", "")
            if not ctype.startswith("application/problem+json"):
                failures.append(f"{label} answered {ctype}, not problem+json")
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} of {len(probes)} probes failed:\n" + "\n".join(
        failures[:80]
    )
    assert len(probes) > 500, len(probes)
    print(f"{len(probes)} probes in {elapsed:.1f} s")
