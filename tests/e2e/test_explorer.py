"""Embedding explorer in the browser: look up a word and read its neighbours; a typo gets suggestions."""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.e2e.conftest import needs_page
from tests.e2e.harness import POINT_CLOUD, bare_mark, cloud_marks, rerun_after, wait_for_app

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
    expect(page.locator(POINT_CLOUD).first).to_be_visible()
    marked = [mark["word"] for mark in cloud_marks(page)]
    assert marked[0] == "silk" and set(words) <= set(marked)  # the plot marks the listed neighbours


def test_a_typo_gets_a_clear_message_and_clickable_suggestions(open_app):
    page = open_app("explorer")
    look_up(page, "<b>sillk</b>")
    expect(page.locator('[data-testid="stAlert"]').first).to_be_visible()
    assert page.locator("b", has_text="sillk").count() == 0  # typed HTML is shown as text, never rendered
    expect(page.get_by_text("Did you mean silk")).to_be_visible()  # the tags left out, the typo remains
    suggestion = page.get_by_role("button", name="silk", exact=True)
    rerun_after(page, suggestion.click)
    expect(page.get_by_text("Nearest to “silk”")).to_be_visible()
    assert neighbour_words(page)


def swipe_up(page, x: float, y: float, distance: float = 250) -> None:
    """A thumb's swipe: touch down at (x, y), move up by ``distance`` pixels, lift (real touch input)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 11):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y - distance * step / 10}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_timeout(500)  # the scroll settles


def test_on_a_phone_a_swipe_over_the_map_scrolls_the_page_past_it(open_on_phone):
    page = open_on_phone("explorer")
    plot = page.locator(POINT_CLOUD).first
    expect(plot).to_be_attached()
    assert plot.bounding_box()["height"] < 0.5 * 844  # there is always page to swipe to

    def swipe_over_plot() -> float:
        """How far the plot moved up when swiped from its middle. Up to three swipes: the first can
        come while the page below the plot is still being drawn (nothing to scroll to yet)."""
        for _ in range(3):
            plot.evaluate("element => element.scrollIntoView({block: 'center'})")
            page.wait_for_timeout(300)
            box = plot.bounding_box()
            swipe_up(page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            moved = box["y"] - plot.bounding_box()["y"]
            if moved > 150:
                break
            page.wait_for_timeout(1_000)
        return moved

    assert swipe_over_plot() > 150  # the 2D map a phone opens on: the page scrolls past it
    choose_projection(page, "t-SNE 3D")
    # A 3D cloud too: the plot leaves vertical swipes to the page until "Touch moves the plot" is on
    assert swipe_over_plot() > 150
    assert plot.evaluate("canvas => canvas.style.touchAction") == "pan-y pinch-zoom"


def test_on_a_phone_a_tap_on_a_point_names_it_and_looks_it_up(open_on_phone):
    page = open_on_phone("explorer")
    expect(page.locator(POINT_CLOUD).first).to_be_attached()
    page.locator(POINT_CLOUD).first.scroll_into_view_if_needed()
    page.wait_for_timeout(1_000)  # the camera's flight to the word
    target = bare_mark(page)
    rerun_after(page, lambda: page.touchscreen.tap(target["x"], target["y"]))
    expect(page.get_by_text(f"Nearest to “{target['word']}”", exact=True)).to_be_visible()  # the table's title
    tip = page.locator('[data-testid="stBidiComponentIsolated"] .tip').first
    assert target["word"] in tip.inner_text()  # the tap showed what hover shows


def choose_projection(page, name: str) -> None:
    box = page.get_by_label("Projection")
    if not box.is_visible():  # a phone keeps it in the options, under the word box
        page.get_by_text("Model, projection and plot options").click()
        expect(box).to_be_visible()
    option = page.get_by_role("option", name=name)
    for _ in range(3):  # a run still drawing the page can redraw the box and close its list: open it again
        wait_for_app(page)
        box.scroll_into_view_if_needed()
        box.click()
        try:
            option.wait_for(state="visible", timeout=5_000)
            rerun_after(page, lambda: option.click(timeout=5_000))
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        if box.input_value() == name:  # the combobox shows the chosen option
            return
    raise AssertionError(f"could not choose the projection {name!r}: the box shows {box.input_value()!r}")


def test_on_a_phone_every_table_starts_with_its_key_column_on_screen(open_on_phone):
    page = open_on_phone("explorer")
    tables = page.locator('[data-testid="stDataFrame"]')
    expect(tables.first).to_be_visible()
    for index in range(tables.count()):
        table = tables.nth(index)
        table.scroll_into_view_if_needed()
        box = table.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1, box  # no sideways scroll to find it
        expect(table.locator('[role="columnheader"]').first).to_be_attached()  # the grid draws after its frame
        headers = table.locator('[role="columnheader"]').all_inner_texts()
        assert headers[0] == "word", headers  # the key column first


@pytest.mark.parametrize("projection", ["t-SNE 3D", "t-SNE 2D"])
def test_clicking_a_point_or_a_label_looks_its_word_up(open_app, projection):
    page = open_app("explorer")
    look_up(page, "silk")
    if projection != "t-SNE 3D":
        choose_projection(page, projection)
    page.wait_for_timeout(1_000)  # the camera's flight to the word
    target = bare_mark(page)
    rerun_after(page, lambda: page.mouse.click(target["x"], target["y"]))
    expect(page.get_by_text(f"Nearest to “{target['word']}”", exact=True)).to_be_visible()  # the table's title
    assert f"word={target['word']}" in page.url
    page.wait_for_timeout(1_000)
    label = page.locator('[data-testid="stBidiComponentIsolated"] .label:not(.large):not([hidden])').first
    word = label.inner_text()
    rerun_after(page, label.click)
    expect(page.get_by_text(f"Nearest to “{word}”")).to_be_visible()


def test_the_legend_hides_and_shows_a_group(open_app):
    page = open_app("explorer")
    cloud = page.locator(POINT_CLOUD).first
    expect(cloud).to_be_attached()
    everything = int(cloud.get_attribute("data-shown"))
    entry = page.locator('[data-testid="stBidiComponentIsolated"] .legend button').first
    entry.click()
    expect(entry).to_have_attribute("aria-pressed", "false")
    page.wait_for_function(f"canvas => Number(canvas.dataset.shown) < {everything}", arg=cloud.element_handle())
    entry.click()
    expect(cloud).to_have_attribute("data-shown", str(everything))
