"""No request waits on a worker thread for code that does not block: Litestar runs a plain
function guard, or a plain function dependency not marked `sync_to_thread=False`, in a thread
pool on every request (bench/README.md, "The lean booking path")."""

from __future__ import annotations

import inspect

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from booking.app import create_app
from tests import support


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('threads') / 'app.db'}"
    return create_app(support.settings_for(url))


def handlers(app: Litestar) -> list[HTTPRouteHandler]:
    return [
        h
        for route in app.routes
        for h in getattr(route, "route_handlers", [])
        if isinstance(h, HTTPRouteHandler)
    ]


def test_every_guard_is_a_coroutine(app: Litestar) -> None:
    threaded = {
        f"{h.handler_name}: {getattr(g, '__name__', g)}"
        for h in handlers(app)
        for layer in h.ownership_layers
        for g in layer.guards or ()
        if not inspect.iscoroutinefunction(g)
    }
    assert not threaded


def test_every_dependency_runs_on_the_event_loop(app: Litestar) -> None:
    threaded = {
        f"{h.handler_name}: {key}"
        for h in handlers(app)
        for key, provide in h.resolve_dependencies().items()
        # Litestar wraps a plain function to run in a thread (`has_sync_callable` is then False
        # although the function it was given was not a coroutine).
        if not provide.has_sync_callable
        and not inspect.iscoroutinefunction(getattr(provide.dependency, "func", None))
        and not inspect.iscoroutinefunction(provide.dependency)
    }
    assert not threaded
