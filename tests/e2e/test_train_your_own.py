"""Train your own in the browser: train tiny word vectors on the built-in corpus and find them listed."""

from playwright.sync_api import expect

from tests.e2e.conftest import needs_page
from tests.e2e.harness import rerun_after

pytestmark = needs_page("pages/train_your_own.py")

MODEL_NAME = "e2e-tiny"
TRAINING_TIMEOUT = 240_000


def slide_to_start(page, label: str) -> None:
    """Move a (select) slider inside the form to its first value with the keyboard."""
    slider = page.locator('[data-testid="stSlider"]').filter(has_text=label)
    slider.locator('input[type="range"]').press("Home")


def test_training_tiny_word_vectors_lists_the_model(open_app):
    page = open_app("train")
    source = page.locator('[data-testid="stRadio"]').filter(has_text="Where the text comes from")
    rerun_after(page, source.get_by_text("wiki-sample", exact=True).click)
    expect(page.get_by_role("heading", name="2 · Preview")).to_be_visible()

    name = page.get_by_label("Model name")
    name.fill(MODEL_NAME)
    rerun_after(page, lambda: name.press("Enter"))
    expect(page.get_by_text(f"user/{MODEL_NAME}", exact=False).first).to_be_visible()

    for label in ("Vector size", "Epochs", "Words to project"):  # the smallest, fastest model
        slide_to_start(page, label)
    rerun_after(page, page.get_by_role("button", name="Train word vectors").click)

    # the job trains in the background; the page polls it and lists the model when it is saved
    models = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator('[role="gridcell"]', has_text=MODEL_NAME))
    expect(models).to_have_count(1, timeout=TRAINING_TIMEOUT)
