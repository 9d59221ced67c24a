"""Embedding explorer in the browser: look up a word and read its neighbours; a typo gets suggestions."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import needs_page
from tests.e2e.harness import rerun_after

pytestmark = needs_page("pages/embeddings.py")


def look_up(page, word: str) -> None:
    box = page.get_by_label("Word", exact=True)
    box.fill(word)
    rerun_after(page, lambda: box.press("Enter"))


def neighbour_words(page) -> list[str]:
    """The word column of the neighbour table (Streamlit mirrors its canvas grid in accessible cells)."""
    cells = page.locator('[data-testid="stDataFrame"]').first.locator('[role="gridcell"]')
    expect(cells.nth(9)).to_be_attached()  # the grid draws its rows a moment after the run ends
    return [text for text in cells.all_inner_texts() if re.fullmatch(r"[^\d.]\S*", text)]


def test_looking_up_a_word_lists_its_neighbours(open_app):
    page = open_app("explorer")
    look_up(page, "silk")
    expect(page.get_by_text("Nearest to “silk”")).to_be_visible()
    words = neighbour_words(page)
    assert len(words) >= 5 and "silk" not in words
    assert "word=silk" in page.url  # the view lives in the link, so it can be shared
    expect(page.locator('[data-testid="stPlotlyChart"]').first).to_be_visible()


def test_a_typo_gets_a_clear_message_and_clickable_suggestions(open_app):
    page = open_app("explorer")
    look_up(page, "<b>sillk</b>")
    expect(page.locator('[data-testid="stAlert"]').first).to_be_visible()
    assert page.locator("b", has_text="sillk").count() == 0  # typed HTML is shown as text, never rendered
    look_up(page, "sillk")
    suggestion = page.get_by_role("button", name="silk", exact=True)
    rerun_after(page, suggestion.click)
    expect(page.get_by_text("Nearest to “silk”")).to_be_visible()
    assert neighbour_words(page)
