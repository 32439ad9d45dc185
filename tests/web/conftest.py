"""The HTML pages through an HTTP client: the app owns its engine; tests seed through `world`."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from booking import people
from booking.app import create_app
from booking.clock import FixedClock
from tests import support

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """A client that behaves like a browser without JavaScript (or, on request, like htmx)."""

    client: AsyncTestClient[Any]
    world: support.World

    def csrf(self) -> str:
        token = self.client.cookies.get("csrftoken")
        assert token, "a page must be fetched first: the CSRF cookie comes with a GET"
        return token

    async def get(self, url: str, *, htmx: bool = False, **kw: Any) -> httpx.Response:
        headers = {"HX-Request": "true"} if htmx else {}
        return await self.client.get(url, headers=headers, follow_redirects=False, **kw)

    async def post(
        self, url: str, data: dict[str, Any] | None = None, *, htmx: bool = False, csrf: bool = True
    ) -> httpx.Response:
        """Post a form as the page would: the hidden `_csrf_token` field, or htmx's header."""
        form = dict(data or {})
        headers = {}
        if csrf:
            if not self.client.cookies.get("csrftoken"):
                await self.get("/login")
            if htmx:
                headers = {"HX-Request": "true", "x-csrftoken": self.csrf()}
            else:
                form["_csrf_token"] = self.csrf()
        elif htmx:
            headers = {"HX-Request": "true"}
        return await self.client.post(url, data=form, headers=headers, follow_redirects=False)

    async def sign_in(self, email: str) -> None:
        """Demo sign-in: pick the person from the list on /login."""
        page = await self.get("/login")
        assert page.status_code == 200
        person_id = await person_id_of(self.world, email)
        response = await self.post("/login", {"person_id": str(person_id), "next": "/courses"})
        assert response.status_code == 303, response.text


async def person_id_of(world: support.World, email: str) -> int:
    for person in await people.list_people(world.db):
        if person.email == email:
            return person.id
    raise AssertionError(f"nobody with email {email}")


BrowserFactory = Callable[..., contextlib.AbstractAsyncContextManager[Browser]]


_APPS: dict[tuple[str, bool], Any] = {}


def cached_app(db_url: str, *, demo: bool) -> Any:
    """Building a Litestar app takes most of a second; the database URL is the same for every
    test of a backend, so one app per (URL, demo) serves them all (its lifespan, engine and
    rate limits start afresh with each client)."""
    key = (db_url, demo)
    if key not in _APPS:
        settings = support.settings_for(db_url, demo=demo)
        _APPS[key] = create_app(settings, clock=FixedClock(support.T0), run_worker=False)
    return _APPS[key]


@pytest.fixture
def open_browser(db_url: str, world: support.World) -> BrowserFactory:
    """`async with open_browser(demo=True) as browser:` — an app on the test database."""

    @contextlib.asynccontextmanager
    async def _open(*, demo: bool = True) -> AsyncIterator[Browser]:
        app = cached_app(db_url, demo=demo)
        async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
            yield Browser(client, world)

    return _open


@pytest.fixture
async def browser(open_browser: BrowserFactory) -> AsyncIterator[Browser]:
    async with open_browser(demo=True) as b:
        yield b
