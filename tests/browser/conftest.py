"""Browser tests: Debian's Chromium driven by Playwright against the real app served by uvicorn.

One uvicorn server and one Chromium for the whole session. Behind the server sits a small ASGI
switch: each test builds the real app (`create_app`, demo sign-in) on its own SQLite database,
copied from the migrated template, runs the app's lifespan and plugs it into the switch. So the
browser, the port and the server are shared; the data is not.

Skipped, with the reason, where /usr/bin/chromium does not exist (`.ci/run` installs it).
No browser is ever downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from playwright.async_api import Browser, Page, async_playwright, expect

from booking import PROJECT_ROOT
from booking.app import create_app
from booking.clock import FixedClock
from tests import support

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1200, "height": 800}
PHONE = {"width": 320, "height": 640}
# Playwright's defaults are 30 s for actions and 5 s for assertions: one limit for both, with
# room for a busy CI machine.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


# --- the server: one uvicorn, one app per test ------------------------------------------------


class AppSwitch:
    """An ASGI app that hands every request to the app of the test that is running."""

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            # Each test's app runs its own lifespan (see `open_site`); the switch has none.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if self.target is None:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"no app"})
            return
        await self.target(scope, receive, send)


@dataclass
class Server:
    base_url: str
    switch: AppSwitch


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's chromium at {CHROMIUM} "
            "(apt-get install -y chromium; .ci/run installs it)"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
async def server(chromium_path: Path) -> AsyncIterator[Server]:
    switch = AppSwitch()
    async with support.live_server(switch) as base_url:
        yield Server(base_url, switch)


@pytest.fixture(scope="session")
async def chromium(chromium_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only (overrides the SQLite-and-PostgreSQL `db_url` of tests/conftest.py)."""
    return support.fresh_sqlite(sqlite_template, tmp_path / "booking.db")


@contextlib.asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan (its engine, its event emitter), entered and left in one task of its
    own: pytest-asyncio sets a fixture up and tears it down in different tasks, and the anyio
    task group inside the lifespan must be left by the task that entered it."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # the lifespan failed: raise its error here
    try:
        yield
    finally:
        stop.set()
        await task


@dataclass
class Site:
    """The app under test: where it answers, and its data (seed it through `world`)."""

    base_url: str
    world: support.World

    def url(self, path: str) -> str:
        return self.base_url + path


SiteFactory = Callable[..., contextlib.AbstractAsyncContextManager[Site]]


@pytest.fixture
def open_site(server: Server, db_url: str, world: support.World) -> SiteFactory:
    """`async with open_site(demo=False) as site:` — the real app on this test's database, its
    clock fixed at `now` (support.T0 unless told); other keywords are settings."""

    @contextlib.asynccontextmanager
    async def _open(
        *, demo: bool = True, now: datetime = support.T0, **settings_: Any
    ) -> AsyncIterator[Site]:
        settings = replace(
            support.settings_for(db_url, demo=demo, **settings_),
            base_url=server.base_url,
            log_level="warning",
        )
        app = create_app(settings, clock=FixedClock(now), run_worker=False)
        async with running(app):
            server.switch.target = app
            try:
                yield Site(server.base_url, world)
            finally:
                server.switch.target = None

    return _open


@pytest.fixture
async def site(open_site: SiteFactory) -> AsyncIterator[Site]:
    async with open_site(demo=True) as s:
        yield s


# --- pages, with the checks every page gets ---------------------------------------------------

# Buttons and links that stand on their own (not a link inside a sentence, which WCAG 2.5.8
# exempts) must be at least 24 × 24 CSS pixels.
_SMALL_TARGETS_JS = """
() => {
  const small = [];
  const targets = document.querySelectorAll(
    'main a[href], main button, main input:not([type=hidden]), main select, main textarea,'
    + ' header a[href], header button');
  for (const el of targets) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const parent = el.parentElement;
    const inSentence = el.tagName === 'A' && getComputedStyle(el).display === 'inline'
      && parent.textContent.trim() !== el.textContent.trim();
    if (inSentence) continue;
    if (box.width < 24 || box.height < 24) {
      small.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 40)}"`
        + ` ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  return small;
}
"""

# Every form control has a label; identity fields say what they are for the browser to fill in.
_FORM_PROBLEMS_JS = """
() => {
  const problems = [];
  const identity = /^(email|name|given-name|family-name|tel|phone|username|token|password)$/i;
  for (const el of document.querySelectorAll(
      'input:not([type=hidden]):not([type=submit]), select, textarea')) {
    const labelled = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby');
    const id = el.id || el.name;
    if (!labelled) problems.push(`${id}: no label`);
    if ((identity.test(el.name) || ['email', 'tel', 'password'].includes(el.type))
        && !el.getAttribute('autocomplete')) problems.push(`${id}: no autocomplete`);
    for (const ref of (el.getAttribute('aria-describedby') || '').split(/\\s+/)) {
      if (ref && !document.getElementById(ref)) problems.push(`${id}: describedby #${ref} missing`);
    }
    if (el.getAttribute('aria-invalid') === 'true') {
      const described = (el.getAttribute('aria-describedby') || '').split(/\\s+/)
        .map((ref) => document.getElementById(ref)).filter(Boolean);
      if (!described.some((d) => d.classList.contains('field-error')
          || d.closest('.error-summary'))) {
        problems.push(`${id}: invalid but no error message in aria-describedby`);
      }
    }
  }
  return problems;
}
"""


@dataclass
class Auditor:
    """Runs axe-core (axe-playwright-python) on a page, with or without JavaScript.

    axe needs JavaScript. A page opened with JavaScript off is audited as a copy: its DOM, as the
    browser built it from the server's HTML (scripts left out), is loaded into a page with
    JavaScript on at the same origin, so that the same stylesheet applies."""

    browser: Browser
    base_url: str
    _copy: Page | None = None

    async def violations(self, page: Page, js: bool) -> list[dict[str, Any]]:
        from axe_playwright_python.async_playwright import Axe

        target = page if js else await self._copy_of(page)
        results = await Axe().run(target)
        return list(results.response["violations"])

    async def _copy_of(self, page: Page) -> Page:
        html = re.sub(r"<script\b[^>]*>.*?</script>", "", await page.content(), flags=re.S | re.I)
        if self._copy is None:
            context = await self.browser.new_context(viewport=page.viewport_size)
            self._copy = await context.new_page()
            await self._copy.goto(self.base_url + "/health")
        else:
            await self._copy.set_viewport_size(page.viewport_size)  # type: ignore[arg-type]
        await self._copy.set_content(html, wait_until="load")
        styled = await self._copy.evaluate(
            "() => Array.from(document.styleSheets).some((sheet) => sheet.cssRules.length > 0)"
        )
        assert styled, "the copy must be audited with the site's stylesheet"
        return self._copy

    async def close(self) -> None:
        if self._copy is not None:
            await self._copy.context.close()


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(n.get("target", [])) for n in v.get("nodes", [])][:5]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")
    return "\n".join(lines)


@dataclass
class Tab:
    """One person's browser tab in a journey. `check(name)` audits the page it is on and keeps
    a screenshot of it."""

    page: Page
    js: bool
    base_url: str
    auditor: Auditor
    prefix: str

    async def goto(self, path: str) -> None:
        response = await self.page.goto(self.base_url + path)
        assert response is not None and response.ok, (path, response and response.status)

    async def sign_in(self, name: str) -> None:
        """Demo sign-in: the login page lists people; pick one."""
        await self.page.get_by_role("button", name=f"Sign in as {name}").click()
        await expect(self.page.get_by_text(f"Signed in as {name}")).to_be_visible()

    async def check(self, name: str, *, full_page: bool = False) -> None:
        """Zero serious or critical axe violations; large enough targets; labelled forms with
        their errors tied to the fields; then a screenshot as a test artefact."""
        page = self.page
        violations = await self.auditor.violations(page, self.js)
        bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
        assert not bad, f"{name} ({page.url}):\n{describe(bad)}"
        small = await page.evaluate(_SMALL_TARGETS_JS)
        assert not small, f"{name}: targets smaller than 24×24 px: {small}"
        problems = await page.evaluate(_FORM_PROBLEMS_JS)
        assert not problems, f"{name}: {problems}"
        await self.screenshot(name, full_page=full_page)

    async def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.prefix}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    async def status_text(self) -> str:
        return " ".join((await self.page.locator("#status").inner_text()).split())

    async def wait_for_focus_in(self, element_id: str) -> None:
        """Wait until the keyboard focus is inside the element with this id."""
        # A locator, not `wait_for_function`: a string predicate that has to poll is evaluated
        # with eval, which the page's Content Security Policy forbids.
        await expect(self.page.locator(f"#{element_id}:focus-within")).to_have_count(1)


TabFactory = Callable[..., contextlib.AbstractAsyncContextManager[Tab]]


@pytest.fixture(scope="session")
async def auditor(chromium: Browser, server: Server) -> AsyncIterator[Auditor]:
    a = Auditor(chromium, server.base_url)
    yield a
    await a.close()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@pytest.fixture
def open_tab(
    chromium: Browser, server: Server, auditor: Auditor, request: pytest.FixtureRequest
) -> TabFactory:
    """`async with open_tab(js=False, who="kim") as tab:` — a fresh browser context (no cookies)
    with JavaScript on or off, its screenshots named after the test. Open the app first (`site`
    or `open_site`)."""

    test_name = _slug(request.node.name.removeprefix("test_"))

    @contextlib.asynccontextmanager
    async def _open(
        *, js: bool = True, who: str = "", viewport: dict[str, int] | None = None
    ) -> AsyncIterator[Tab]:
        context = await chromium.new_context(
            java_script_enabled=js,
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            accept_downloads=True,
            locale="en-GB",
            timezone_id="Europe/London",
            reduced_motion="reduce",
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        prefix = "-".join(filter(None, [test_name, _slug(who)]))
        try:
            yield Tab(page, js, server.base_url, auditor, prefix)
        finally:
            await context.close()

    return _open


async def seed_cost_code(world: support.World) -> int:
    """Bea Budget, who holds cost code AS-4410, and a £60 course a cost code may pay for;
    returns the course."""
    from billing import services as billing
    from billing.domain.money import Money
    from booking import catalogue

    await support.add_budget_holder(world)
    course = await catalogue.create_course(
        world.db,
        world.clock,
        world.admin,
        catalogue.CourseInput(code="MHFA", title="Mental Health First Aid", price=Money(6000)),
    )
    async with world.db.transaction() as s:
        await billing.create_cost_code(
            s,
            billing.CostCodeInput(
                "AS-4410", "Adult Services", "bud@example.org", date(2027, 1, 1), None, None
            ),
            pattern=world.db.settings.cost_code_pattern,
            now=world.clock.now(),
        )
    return course.id


def feed_events(ics: str) -> list[dict[str, str]]:
    """The VEVENTs of an iCalendar text, each as {property name: raw value} (unfolded)."""
    unfolded = re.sub(r"\r?\n[ \t]", "", ics)
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in unfolded.splitlines():
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            events.append(current)
            current = None
        elif current is not None and ":" in line:
            name, _, value = line.partition(":")
            current[name] = value
    return events
