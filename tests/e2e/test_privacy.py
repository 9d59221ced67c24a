"""Privacy in the browser, on a fresh server as users get it (the warm-up on): visitor A trains a
private model; visitor B, walking through three pages, can neither see, preview, stop nor delete it
(issue 22: a cached warm-up once handed the first visitor's owner cookie to everyone)."""

import pytest
from playwright.sync_api import expect

from app.ui import OWNER_COOKIE
from tests.e2e.conftest import ARTIFACTS, DESKTOP, needs_page, open_through_sidebar
from tests.e2e.harness import AppServer, rerun_after
from tests.e2e.test_train_your_own import TRAINING_TIMEOUT, slide_to_start

pytestmark = needs_page("pages/train_your_own.py")

PRIVATE = "victim"


@pytest.fixture(scope="module")
def fresh_server():
    """A server of its own, so that visitor A is the very first visitor: the one whose session runs
    the cached warm-up."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with AppServer(log_path=ARTIFACTS / "privacy-server.log") as server:
        assert "ATELIER_WARM_UP" not in server.extra_env
        yield server


def owner_token(page) -> str | None:
    return next((c["value"] for c in page.context.cookies() if c["name"] == OWNER_COOKIE), None)


def train_private_model(page, server_url: str) -> None:
    """Visitor A: word vectors on the built-in corpus, then the char-LSTM, whose job keeps running."""
    open_through_sidebar(page, server_url, "train")
    source = page.locator('[data-testid="stRadio"]').filter(has_text="Where the text comes from")
    rerun_after(page, source.get_by_text("wiki-sample", exact=True).click)
    name = page.get_by_label("Model name")
    name.fill(PRIVATE)
    rerun_after(page, lambda: name.press("Enter"))
    page.get_by_text("Word-vector settings").click()
    for label in ("Vector size", "Epochs", "Words to project"):
        slide_to_start(page, label)
    minutes = page.locator('[data-testid="stSlider"]').filter(has_text="Minutes")
    minutes.locator('input[type="range"]').press("End")  # a long job: it is still running while B looks
    rerun_after(page, page.get_by_role("button", name="Train word vectors and the LSTM").click)
    # the word vectors are listed once saved, while the LSTM goes on training
    mine = page.locator('[data-testid="stDataFrame"]').filter(has=page.locator('[role="gridcell"]', has_text=PRIVATE))
    expect(mine).to_have_count(1, timeout=TRAINING_TIMEOUT)
    expect(mine.locator('[role="gridcell"]', has_text="yours, private")).to_have_count(1)
    expect(page.get_by_role("button", name="Stop and save")).to_be_visible(timeout=TRAINING_TIMEOUT)


def test_a_private_model_stays_private_from_the_next_visitor(browser, fresh_server):
    a = browser.new_context(**DESKTOP).new_page()
    b = browser.new_context(**DESKTOP).new_page()
    try:
        train_private_model(a, fresh_server.url)
        token_a = owner_token(a)
        assert token_a

        # B: home, the explorer, then Train your own; B's cookie is B's own on every page
        for url_path in ("", "explorer", "train"):
            open_through_sidebar(b, fresh_server.url, url_path)
            b.wait_for_function(f"document.cookie.includes('{OWNER_COOKIE}=')", timeout=30_000)
            assert owner_token(b) not in (None, token_a)
            if url_path == "explorer":
                b.get_by_role("combobox", name="Model", exact=True).click()  # the model menu lists no private model of A's
                expect(b.get_by_role("option").first).to_be_visible()
                assert not [o for o in b.get_by_role("option").all_inner_texts() if PRIVATE in o]
                b.keyboard.press("Escape")

        expect(b.get_by_role("heading", name="Your models")).to_be_visible()
        expect(b.get_by_text("1 other job(s) on this server: char-LSTM")).to_be_visible()  # counted, not named
        assert PRIVATE not in b.locator('[data-testid="stMain"]').inner_text()
        assert PRIVATE not in b.locator('[data-testid="stRadio"]').filter(has_text="Where the text comes from").inner_text()
        expect(b.get_by_role("button", name="Stop and save")).to_have_count(0)  # nothing of A's to stop…
        expect(b.get_by_role("button", name="Delete")).to_have_count(0)  # …or to delete
        expect(b.get_by_text("No models trained here yet.")).to_be_visible()

        # A's model and job are untouched: A stops it and still finds the model theirs and private
        rerun_after(a, a.get_by_role("button", name="Stop and save").click)
        expect(a.get_by_role("button", name="Stop and save")).to_have_count(0, timeout=TRAINING_TIMEOUT)
        mine = a.locator('[data-testid="stDataFrame"]').filter(has=a.locator('[role="gridcell"]', has_text=PRIVATE))
        expect(mine.locator('[role="gridcell"]', has_text="yours, private")).to_have_count(1)
    finally:
        a.context.close()
        b.context.close()
