"""The QR code's deep link on a fresh server: the very first visitor lands on the quiz, with no dialog.

Its own server (the session's one has had visitors by now): a phone that scans the QR code before
anyone else has opened the app is the case that used to get Streamlit's "Page not found" dialog.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, needs_page
from tests.e2e.harness import AppServer, rerun_after, wait_for_app

pytestmark = needs_page("pages/fake_or_real.py")


@pytest.fixture
def fresh_server():
    server = AppServer(log_path=ARTIFACTS / "deep-link-server.log").start()
    yield server
    server.stop()


def test_the_first_visitor_of_a_fresh_server_lands_on_the_quiz_by_its_deep_link(fresh_server, page):
    page.goto(f"{fresh_server.url}/fake-or-real")
    wait_for_app(page)
    expect(page.locator('[data-testid="stMain"] h1').first).to_have_text("Fake or real?")
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_role("dialog").count() == 0

    rerun_after(page, page.get_by_role("button", name="New game").click)
    expect(page.get_by_text(re.compile(r"Round 1 of 10"))).to_be_visible(timeout=120_000)
