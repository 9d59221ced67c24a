"""LM playground in the browser: the LSTM writes after your start, and scores a sentence you type."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import needs_page
from tests.e2e.harness import rerun_after, wait_for_app

pytestmark = needs_page("pages/playground.py")


def test_the_lstm_writes_after_your_start(open_app):
    page = open_app("playground")
    rerun_after(page, page.get_by_role("button", name="Generate").click)
    expect(page.get_by_text(re.compile(r"\d+ characters in [\d.]+ s"))).to_be_visible()


def test_scoring_a_typed_sentence(open_app):
    page = open_app("playground")
    page.get_by_role("tab", name="Score a sentence").click()  # a lazy tab: its rerun draws the box
    box = page.get_by_label("Sentence", exact=True)
    expect(box).to_be_visible()
    wait_for_app(page)
    box.fill("<script>alert(1)</script> fits 👗 well")
    rerun_after(page, lambda: box.press("Enter"))
    expect(page.locator('[data-testid="stMetricValue"]').first).to_be_visible()
    assert page.locator("script", has_text="alert(1)").count() == 0
