"""Accessibility in the browser: axe-core finds no serious or critical violation on any page, on a
desktop and on a phone, nor in any state of a room (the presenter's screen and a phone's); on the home
page and Fake or real? the headings also go in order (axe's moderate heading-order).

axe-core comes from npm, pinned (AXE_VERSION), into the git-ignored node_modules/ of the checkout: the
first run installs it there with npm (a clean CI clone does too). Without npm (or without the registry)
nothing is installed and the tests skip, or fail under CI=true. Each test opens its page by its address,
as a phone that scans a QR code does, so every deep link is also checked for console errors (``page``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from app.game.room import COUNTDOWN_RANGE
from app.serving.site import HOME, PAGES
from tests.conftest import IN_CI
from tests.e2e.conftest import offsite
from tests.e2e.harness import ROOT, page_registered, rerun_after, wait_for_app

pytestmark = pytest.mark.e2e

AXE_VERSION = "4.10.3"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")  # axe's two highest impacts; "moderate" and "minor" are reported, not failed
# Pages whose headings must also go in order (axe's moderate "heading-order": no h4 straight under the h1)
HEADINGS_IN_ORDER = {HOME.url_path, "fake-or-real"}
ALL_PAGES = [info for info in [HOME, *PAGES] if page_registered(info.file)]
DEAL_TIMEOUT = 180_000  # the first room of a fresh server waits for the deck and the LSTM's fakes


def installed_axe_version() -> str | None:
    package = AXE_SCRIPT.parent / "package.json"
    if not (AXE_SCRIPT.is_file() and package.is_file()):
        return None
    return re.search(r'"version":\s*"([^"]+)"', package.read_text()).group(1)


@pytest.fixture(scope="session")
def axe_script() -> str:
    """axe-core's source, installed from npm into node_modules/ on first use."""
    if installed_axe_version() != AXE_VERSION:
        npm = shutil.which("npm")
        problem = None
        if npm is None:
            problem = "npm is not installed (apt-get install npm), so axe-core cannot be installed"
        else:
            done = subprocess.run([npm, "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
                                   "--prefix", str(ROOT), f"axe-core@{AXE_VERSION}"],
                                  capture_output=True, text=True, timeout=300, check=False)
            if done.returncode != 0 or installed_axe_version() != AXE_VERSION:
                problem = f"npm install axe-core@{AXE_VERSION} failed: {(done.stderr or done.stdout)[-2000:]}"
        if problem:
            if IN_CI:
                pytest.fail(f"CI needs axe-core: {problem}")
            pytest.skip(problem)
    return AXE_SCRIPT.read_text()


def blocking_violations(page, axe_source: str, also: tuple[str, ...] = ()) -> list[str]:
    """axe's serious and critical violations on what the page shows now, and those of the rules named in
    also whatever their impact, one line per rule and element."""
    wait_for_app(page)
    page.wait_for_load_state("networkidle")  # pictures and charts drawn
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source)
    violations = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {node['target']}: {node['failureSummary'][:300]}"
            for v in violations if v["impact"] in BLOCKING or v["id"] in also for node in v["nodes"]]


def open_by_address(page, server_url: str, url_path: str):
    """The page at url_path, opened by its address (a deep link), once its script has run."""
    page.goto(f"{server_url}/{url_path}")
    wait_for_app(page)
    expect(page.locator('[data-testid="stMain"]')).not_to_be_empty()
    return page


@pytest.fixture(scope="module")
def warmed_up(app_server, browser):
    """A speaker opens the app first (a fresh server's first deep link gets Streamlit's "Page not found"
    dialog: see test_deep_link.py), and the first visit loads the models."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(app_server.url)
        wait_for_app(page, timeout=120_000)
    finally:
        context.close()
    return app_server


@pytest.mark.parametrize("device", ["page", "phone_page"], ids=["desktop", "phone"])
@pytest.mark.parametrize("info", ALL_PAGES, ids=[info.url_path or "home" for info in ALL_PAGES])
def test_axe_finds_no_serious_violation_on_the_page(info, device, request, warmed_up, axe_script):
    page = open_by_address(request.getfixturevalue(device), warmed_up.url, info.url_path)
    problems = blocking_violations(page, axe_script, ("heading-order",) if info.url_path in HEADINGS_IN_ORDER else ())
    assert not problems, "\n".join(problems)
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)  # client.toolbarMode = "viewer"


@pytest.mark.skipif(not page_registered("pages/present.py"), reason="pages/present.py is not in the navigation yet")
def test_axe_finds_no_serious_violation_in_any_room_state(page, phone_page, warmed_up, axe_script):
    """One room, one round: the presenter's screen (desktop) and a phone, in the lobby, a round, the
    reveal and on the podium; the phone also before it joins."""
    found: dict[str, list[str]] = {}

    def audit(where: str, screen) -> None:
        found[where] = blocking_violations(screen, axe_script)

    presenter = open_by_address(page, warmed_up.url, "present")
    presenter.get_by_label("Rounds").fill("1")
    presenter.get_by_label("Rounds").press("Tab")
    presenter.get_by_label("Countdown (seconds)").fill(str(COUNTDOWN_RANGE[1]))  # time for the audits
    presenter.get_by_label("Countdown (seconds)").press("Tab")
    audit("presenter: setup", presenter)
    rerun_after(presenter, presenter.get_by_role("button", name="Create the room").click, timeout=DEAL_TIMEOUT)
    expect(presenter.get_by_text("Room code")).to_be_visible(timeout=DEAL_TIMEOUT)
    audit("presenter: lobby", presenter)

    code = parse_qs(urlsplit(presenter.url).query)["room"][0]
    phone = open_by_address(phone_page, warmed_up.url, f"play?room={code}")
    audit("phone: nickname form", phone)
    phone.get_by_label("Nickname", exact=True).fill("Ada")
    rerun_after(phone, phone.get_by_role("button", name="Join").click)
    expect(phone.get_by_text("Waiting for the first sentence")).to_be_visible()
    audit("phone: lobby", phone)

    rerun_after(presenter, presenter.get_by_role("button", name="Start round 1").click)
    human = phone.get_by_role("button", name="🧑 Human")
    expect(human).to_be_visible()
    audit("phone: round", phone)
    audit("presenter: round", presenter)
    rerun_after(phone, human.click)
    expect(phone.get_by_text("Your vote:")).to_be_visible()
    audit("phone: voted", phone)

    rerun_after(presenter, presenter.get_by_role("button", name="Reveal").click)
    expect(presenter.get_by_text(re.compile(r"^It was "))).to_be_visible()
    expect(phone.get_by_text(re.compile(r"^(Right|Wrong)!"))).to_be_visible()
    audit("presenter: reveal", presenter)
    audit("phone: reveal", phone)

    rerun_after(presenter, presenter.get_by_role("button", name="Show the podium").click)
    expect(presenter.get_by_role("heading", name="The podium")).to_be_visible()
    audit("presenter: podium", presenter)
    wait_for_app(phone)
    audit("phone: game over", phone)

    problems = [f"{where}: {line}" for where, lines in found.items() for line in lines]
    assert not problems, "\n".join(problems)


def test_the_offsite_guard_tells_the_apps_host_from_any_other():
    """What tests/e2e/conftest.py's no_offsite_requests fails a browser test on."""
    assert not offsite("http://127.0.0.1:8501/_stcore/health")
    assert not offsite("data:image/png;base64,iVBORw0KGgo=")
    assert offsite("https://webhooks.fivetran.com/webhooks/4c6a6b9b")  # Streamlit's usage statistics
    assert offsite("https://fonts.googleapis.com/css2?family=Inter")
