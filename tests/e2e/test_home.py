"""Home page in the browser: the title, the models in the store, and every page one click or one link away."""

import pytest
from playwright.sync_api import expect

from app.data.corpus import FASHION_ENV
from app.serving.site import PAGES
from tests.e2e.harness import AppServer, page_registered, wait_for_app

pytestmark = pytest.mark.e2e


def test_home_shows_a_card_per_page_and_the_models_by_name(open_app):
    page = open_app("")
    assert "RNN Atelier" in page.locator("h1").first.inner_text()
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("The models: what each one is").click()  # folded away, under the pages
    expect(main.get_by_text("glove · vectors")).to_be_visible()  # models named, not located by path
    assert "model_store" not in main.inner_text()
    pictures = main.locator('[data-testid="stImage"] img')
    # a picture on every card but the leading "Join a room" (a phone's first screen)
    expect(pictures).to_have_count(sum(info.screenshot().is_file() for info in PAGES if info.url_path != "play"))
    assert all(pictures.nth(i).evaluate("img => img.naturalWidth > 0") for i in range(pictures.count()))
    assert main.locator('[data-testid="stPageLink"]').count() == len(PAGES)  # each card links its page
    links = page.locator('[data-testid="stSidebarNav"] a')
    assert links.count() == 1 + len(PAGES)


def visit_every_page_by_link(page, server_url: str) -> None:
    # The first session of a fresh server opened by a deep link gets a spurious "Page not found"
    # dialog from Streamlit (the page still runs); a speaker always opens the app first, so do we.
    page.goto(server_url)
    wait_for_app(page)
    for info in PAGES:
        if not page_registered(info.file):
            continue
        page.goto(f"{server_url}/{info.url_path}")
        wait_for_app(page)
        # its title: st.title's h1, or a stage's headline (a div with the heading role, app/ui/stage.py)
        expect(page.locator('[data-testid="stMain"]').get_by_role("heading", level=1).first).not_to_be_empty()
        expect(page.get_by_role("dialog")).to_have_count(0)
        assert page.url.split("?")[0].endswith(f"/{info.url_path}")


def test_every_page_opens_by_its_link(page, app_server):
    """What a phone does with the quiz's QR code: open a page's address directly."""
    visit_every_page_by_link(page, app_server.url)


@pytest.fixture
def server_without_fashion_corpus(tmp_path):
    with AppServer(extra_env={FASHION_ENV: str(tmp_path / "missing.csv")}) as server:
        yield server


def test_every_page_works_without_the_fashion_corpus(server_without_fashion_corpus, page):
    """Without the reviews the pages fall back to the committed models and the Wikipedia sample.
    (The server fixture comes first, so it stops after the page has closed.)"""
    visit_every_page_by_link(page, server_without_fashion_corpus.url)
