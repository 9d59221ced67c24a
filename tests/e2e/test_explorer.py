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
    plot = page.locator('[data-testid="stPlotlyChart"]').first
    expect(plot.locator(".main-svg").first).to_be_attached()
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
    # A 3D scene too: on a phone it is drawn static (no touch handlers at all) until "Touch moves the
    # plot" is switched on. (Headless Chromium's emulated touch scrolls past a live scene as well, so
    # the phones' own behaviour, where the scene keeps the swipe, cannot be asserted here.)
    assert swipe_over_plot() > 150
    assert plot.locator(".js-plotly-plot").evaluate("p => p._context.staticPlot") is True


def choose_projection(page, name: str) -> None:
    box = page.get_by_label("Projection")
    box.scroll_into_view_if_needed()
    box.click()
    rerun_after(page, lambda: page.get_by_role("option", name=name).click())


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


def test_clicking_a_point_of_the_2d_map_looks_its_word_up(open_app):
    page = open_app("explorer")
    look_up(page, "silk")
    choose_projection(page, "t-SNE 2D")
    # The pixel of silk's nearest neighbour, read from the drawn plot (it is the highlighted trace's 2nd point)
    plot = page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot').first
    expect(plot.locator(".main-svg").first).to_be_attached()
    target = plot.evaluate("""plot => {
        const trace = plot._fullData[plot._fullData.length - 1], layout = plot._fullLayout;
        const x = layout.xaxis.l2p(trace.x[1]) + layout._size.l, y = layout.yaxis.l2p(trace.y[1]) + layout._size.t;
        const box = plot.getBoundingClientRect();
        return {x: box.left + x, y: box.top + y, word: trace.customdata[1][0]};
    }""")
    rerun_after(page, lambda: page.mouse.click(target["x"], target["y"]))
    expect(page.get_by_text(f"Nearest to “{target['word']}”")).to_be_visible()
    assert f"word={target['word']}" in page.url
