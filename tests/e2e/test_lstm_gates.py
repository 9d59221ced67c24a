"""LSTM gates in the browser: typing redraws the gate heatmaps, character by character."""

from playwright.sync_api import expect

from tests.e2e.conftest import needs_page
from tests.e2e.harness import rerun_after, wait_for_app

pytestmark = needs_page("pages/lstm_gates.py")


def heatmap_picture(page) -> list[str]:
    """What the heatmap chart draws: its cell images and its axis labels (the characters)."""
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart.locator(".hm image").first).to_be_attached()
    images = chart.locator(".hm image").evaluate_all("nodes => nodes.map(n => n.getAttribute('href'))")
    labels = chart.locator(".xtick text").all_inner_texts()
    return images + labels


def test_typing_redraws_the_heatmap(open_app):
    page = open_app("lstm-gates")
    before = heatmap_picture(page)
    box = page.get_by_label("Your text", exact=False)
    rerun_after(page, lambda: box.fill("Soft & drapey, <i>runs</i> small 👗"))
    after = heatmap_picture(page)
    assert after != before
    assert page.locator("i", has_text="runs").count() == 0  # typed HTML stays text


def test_emptying_the_text_asks_for_some(open_app):
    page = open_app("lstm-gates")
    box = page.get_by_label("Your text", exact=False)
    box.fill("")
    box.press("Enter")  # whether the emptied live box reruns on its own or on Enter, wait for the outcome
    expect(page.get_by_text("Type some text above")).to_be_visible(timeout=60_000)
    wait_for_app(page)
