"""Every page as a visitor sees it, on a desktop (1280 × 900) and on a phone (390 × 844, touch),
saved into docs/screenshots/ for the README and the home page's cards (small palette PNGs: the
whole set stays under 2 MB). On the phone, every table shown must start inside the screen.

The pictures are rewritten on every run; commit them when a page's look changes.
"""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.serving.site import HOME, PAGES, SCREENSHOTS
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.harness import POINT_CLOUD, page_registered, wait_for_app

pytestmark = pytest.mark.e2e

DEVICES = {"desktop": DESKTOP, "phone": PHONE}
SAVED_WIDTH = {"desktop": 960, "phone": 390}  # pixels; the desktop picture is scaled down by a quarter
COLOURS = 128  # a palette PNG: a fraction of the bytes of a full-colour one, and plots stay crisp


def save_small(png: bytes, path, width: int) -> None:
    picture = Image.open(io.BytesIO(png)).convert("RGB")
    if picture.width != width:
        picture = picture.resize((width, round(picture.height * width / picture.width)), Image.LANCZOS)
    picture.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def settle(page) -> None:
    """The run is over and the charts are drawn (they draw after the run ends)."""
    wait_for_app(page, 120_000)  # a page's first visitor loads its models
    page.wait_for_timeout(1000)
    wait_for_app(page, 120_000)  # a page that writes its view into the URL (the explorer) runs once more
    for chart in page.locator('[data-testid="stPlotlyChart"]').all()[:3]:
        expect(chart.locator(".main-svg").first).to_be_attached()
    for cloud in page.locator(POINT_CLOUD).all():
        expect(cloud).to_be_attached()
    page.wait_for_timeout(1500)  # WebGL scenes, the camera's flight and the table grids finish


def tables_start_on_screen(page, width: int) -> None:
    """No table's key column off-screen: each table's left edge, and so its first column, is inside it."""
    for table in page.locator('[data-testid="stDataFrame"]').all():
        if table.is_visible():
            box = table.bounding_box()
            assert 0 <= box["x"] < width - 100, box


@pytest.mark.parametrize("device", list(DEVICES))
def test_every_page_screenshot(browser, app_server, device):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(**DEVICES[device])
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(app_server.url)  # the home page first, as the speaker opens the app
        wait_for_app(page, 120_000)
        for info in [HOME, *PAGES]:
            if not page_registered(info.file):
                continue
            page.goto(f"{app_server.url}/{info.url_path}")
            settle(page)
            if device == "phone":
                tables_start_on_screen(page, PHONE["viewport"]["width"])
            save_small(page.screenshot(), info.screenshot(device), SAVED_WIDTH[device])
    finally:
        context.close()


def test_the_explorer_in_dark_mode_screenshot(browser, app_server):
    """The theme's dark side: the visitor's system says dark, the app follows."""
    context = browser.new_context(**DESKTOP, color_scheme="dark")
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{app_server.url}/explorer?model=fashion-reviews/skipgram&projection=tsne2&word=silk")
        settle(page)
        background = page.evaluate("getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor")
        assert background == "rgb(22, 19, 26)"  # [theme.dark] backgroundColor of .streamlit/config.toml
        save_small(page.screenshot(), SCREENSHOTS / "explorer-dark-desktop.png", SAVED_WIDTH["desktop"])
    finally:
        context.close()


def test_the_screenshots_stay_small():
    pictures = list(SCREENSHOTS.glob("*.png"))
    assert sum(p.stat().st_size for p in pictures) < 2 * 2**20
