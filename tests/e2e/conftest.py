"""Browser tests: the real app (``streamlit run``) driven by headless Chromium, as a visitor uses it.

Run: ``pytest tests/e2e`` (all marked ``e2e``; ``pytest -m "not e2e"`` leaves them out). Screenshots and
the server log land in ``artifacts/e2e/``. ``ATELIER_E2E_APP=other_entry.py`` tests another entry script.

Fixtures
- ``app_server`` (session): one server on a free loopback port, with a temporary leaderboard
  database (``ATELIER_DATABASE_URL``), a private model store (``ATELIER_MODEL_STORE``) and checkpoint
  folder (``ATELIER_CHECKPOINTS``). Its log is saved as ``artifacts/e2e/server.log``.
- ``browser`` (session): Debian's Chromium via Playwright. Missing: a skip, or a failure under CI=true.
- ``page``: a fresh browser context (a new visitor) at 1280 × 900; ``phone_page`` the same on a phone
  (390 × 844, touch, a phone's User-Agent). After the test it saves a full-page screenshot
  to ``artifacts/e2e/<page>--<test>.png`` and fails on any browser console error or page error and on any
  Streamlit exception box.
- ``no_offsite_requests`` (automatic, in every test that uses the browser): fails the test on any request
  from any of its browser contexts to a host other than the app's (APP_HOSTS).
- ``open_app(path)``: go to a page by its url_path ("" is home) and wait for its script run.

Adding a page: create ``tests/e2e/test_<page>.py`` with ``pytestmark = needs_page("pages/<page>.py")``
(skipped until the page is in the navigation: streamlit_app.py / app/serving/site.py), open it with ``open_app("<url_path>")``,
and drive it with Playwright locators; wrap each interaction in ``rerun_after(page, action)``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from app.serving.site import PAGES
from tests.e2e.harness import (
    EXCEPTION_BOX,
    ROOT,
    AppServer,
    page_registered,
    wait_for_app,
)

ARTIFACTS = ROOT / "artifacts" / "e2e"
SLOW_MACHINE_MS = 30_000  # charts draw after the run ends; a busy 2-core machine needs more than 5 s
# Opened by a deep link (/why-lstm), Streamlit's frontend cannot tell the page's path from a base path
# the server may be mounted at (server.baseUrlPath, or a proxy's prefix): it tries the address's full path
# first, GET /why-lstm/_stcore/health and /host-config, gets 404 (which Chromium logs as a console error),
# then its parent, /, which answers. The bundle (static/js/index.*.js, the function that lists the
# candidate base URLs) skips the guess only when window.__streamlit.BACKEND_BASE_URL is set before it
# loads, which a page that embeds Streamlit can do but Streamlit's own index.html has no option for; so
# those two 404s, one path segment deep and nothing else, are expected and tolerated.
BASE_PATH_PROBE = re.compile(r"/[\w-]+/_stcore/(health|host-config)$")
# The hosts a visitor's browser may talk to: the app's server, on loopback (AppServer). Anything else
# (usage statistics, fonts, a CDN) is a call the meetup's Wi-Fi and the visitors' privacy pay for.
APP_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"data", "blob", "about"}
# A visitor who leaves the home page before its pictures have loaded: Streamlit releases the media
# of the page left behind, and the browser's late request for one gets 404. Nothing is missing from
# the page being shown.
LEFT_PAGE_MEDIA = re.compile(r"/media/[0-9a-f]+\.png$")
expect.set_options(timeout=SLOW_MACHINE_MS)


def needs_page(page_file: str):
    """Mark a module's tests e2e, and skip them until the page is in pages/ and in the navigation."""
    return [pytest.mark.e2e,
            pytest.mark.skipif(not page_registered(page_file), reason=f"{page_file} is not in streamlit_app.py yet")]


def offsite(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in LOCAL_SCHEMES and parts.hostname not in APP_HOSTS


@pytest.fixture(autouse=True)
def no_offsite_requests(request, monkeypatch):
    """Every browser context a test opens (``page``, ``phone_page``, or ``browser.new_context``)
    records the requests it makes; the test fails on any to a host other than the app's."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    calls: list[str] = []
    open_context = browser.new_context

    def new_context(*args, **kwargs):
        context = open_context(*args, **kwargs)
        context.on("request", lambda r: calls.append(f"{r.method} {r.url}") if offsite(r.url) else None)
        return context

    monkeypatch.setattr(browser, "new_context", new_context)
    yield
    assert not calls, "requests to hosts other than the app's:\n" + "\n".join(calls)


@pytest.fixture(scope="session")
def app_server():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = AppServer(log_path=ARTIFACTS / "server.log").start()
    yield server
    server.stop()


DESKTOP = {"viewport": {"width": 1280, "height": 900}}
# A phone as the room has them: 390 × 844 CSS pixels, touch, and a phone's User-Agent (pages read it
# to draw shorter figures); scale 1 keeps the screenshots small.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 1,
         "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                       "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"}


def visitor_page(browser, request, device: dict):
    """A fresh browser context (a new visitor) on ``device``; see ``page`` for what happens after the test."""
    context = browser.new_context(**device)
    page = context.new_page()
    page.set_default_timeout(60_000)
    problems: list[str] = []

    def on_console(message):
        url = message.location.get("url", "")
        if message.type == "error" and not (BASE_PATH_PROBE.search(url) or LEFT_PAGE_MEDIA.search(url)):
            problems.append(f"console error: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield page
    module = request.node.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    name = re.sub(r"[^\w.-]+", "_", f"{module}--{request.node.name}")
    try:
        show_whole_page(page)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        exceptions = page.locator(EXCEPTION_BOX).all_inner_texts()
    finally:
        context.close()
    assert not exceptions, f"Streamlit exception box: {exceptions}"
    assert not problems, "browser console errors:\n" + "\n".join(problems)


@pytest.fixture
def page(browser, request):
    yield from visitor_page(browser, request, DESKTOP)


@pytest.fixture
def phone_page(browser, request):
    """Like ``page``, on a phone (PHONE): touch, 390 px wide."""
    yield from visitor_page(browser, request, PHONE)


def show_whole_page(page) -> None:
    """Streamlit scrolls inside its main block, so grow the viewport to it for a full screenshot."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? 900")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(max(900, height), 8000)})


def open_through_sidebar(page, server_url: str, url_path: str = ""):
    """Open the home page, then (as a visitor does) the page at url_path through the sidebar."""
    page.goto(server_url)
    wait_for_app(page)
    if url_path:
        link = page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url_path}"]')
        expand = page.locator('[data-testid="stExpandSidebarButton"]')
        if expand.is_visible():  # a phone keeps the sidebar closed: open it as a thumb does
            expand.click()
        link.click()
        page.wait_for_url(lambda url: urlsplit(url).path.endswith(f"/{url_path}"))
        # Wait for the page's own title (each page's st.title is its title in app/serving/site.py),
        # not for a script run, which can start and end before anyone watches for it.
        title = next(info.title for info in PAGES if info.url_path == url_path)
        expect(page.locator('[data-testid="stMain"] h1').first).to_have_text(title, timeout=60_000)
        wait_for_app(page)
    return page


@pytest.fixture
def open_app(page, app_server):
    """Open the home page, then (as a visitor does) the page at url_path through the sidebar."""
    return lambda url_path="": open_through_sidebar(page, app_server.url, url_path)


@pytest.fixture
def open_on_phone(phone_page, app_server):
    """``open_app`` on a phone (``phone_page``)."""
    return lambda url_path="": open_through_sidebar(phone_page, app_server.url, url_path)
