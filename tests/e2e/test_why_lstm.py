"""Why LSTM? in the browser: moving a slider redraws the gradient-flow chart."""

from tests.e2e.conftest import needs_page
from tests.e2e.harness import rerun_after

pytestmark = needs_page("pages/why_lstm.py")


def chart_lines(page) -> list[str]:
    """The SVG paths of the plotted lines: they change when the gradient norms change."""
    lines = page.locator('[data-testid="stPlotlyChart"] .scatterlayer path.js-line')
    lines.first.wait_for()
    return [lines.nth(i).get_attribute("d") for i in range(lines.count())]


def test_moving_a_slider_redraws_the_chart(open_app):
    page = open_app("why-lstm")
    assert page.locator("h1").first.inner_text() == "Why LSTM?"
    before = chart_lines(page)
    assert len(before) >= 2  # the plain RNN and the LSTM

    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Recurrent scale")
    shown_value = slider.get_by_test_id("stSliderThumbValue")
    assert shown_value.inner_text() == "1.00"
    thumb = slider.locator('input[type="range"]')
    for _ in range(5):  # one keyboard step is 0.1; each step is a script run
        rerun_after(page, lambda: thumb.press("ArrowRight"))
    assert shown_value.inner_text() == "1.50"
    after = chart_lines(page)
    assert after != before

    # above scale 1 the clipping metric now has something to clip
    metrics = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert len(metrics) == 2
