"""Train your own in the browser: train tiny word vectors on the built-in corpus and find them listed."""

from playwright.sync_api import expect

from tests.e2e.conftest import needs_page
from tests.e2e.harness import rerun_after

pytestmark = needs_page("pages/train_your_own.py")

MODEL_NAME = "e2e-tiny"
TRAINING_TIMEOUT = 300_000  # tiny word vectors, then a minute of the LSTM and its evaluation


def slide_to_start(page, label: str) -> None:
    """Move a (select) slider to its first value with the keyboard."""
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

    page.get_by_text("Word-vector settings").click()
    for label in ("Vector size", "Epochs", "Words to project", "Minutes for the LSTM"):  # the smallest, fastest
        slide_to_start(page, label)
    lstm_size = page.locator('[data-testid="stRadio"]').filter(has_text="LSTM size")
    rerun_after(page, lstm_size.get_by_text("small (64 × 1)").click)
    # one Train: the word vectors, then the LSTM (what every page needs)
    rerun_after(page, page.get_by_role("button", name="Train word vectors and the LSTM").click)

    # the job trains in the background; the page polls it and lists the model when it is saved
    models = page.locator('[data-testid="stDataFrame"]').filter(
        has=page.locator('[role="gridcell"]', has_text=MODEL_NAME))
    expect(models).to_have_count(1, timeout=TRAINING_TIMEOUT)


def test_the_server_refuses_an_upload_over_the_apps_limit(open_app, app_server):
    """server.maxUploadSize is the app's 50 MB: a 150 MB upload is refused by the server itself
    (HTTP 413 on its Content-Length, before a byte of the body is read), and the page says the limit."""
    import http.client
    import urllib.parse

    from app.data import uploads

    page = open_app("train")
    expect(page.get_by_text(f"up to {uploads.upload_limit_mb()} MB")).to_be_visible()
    expect(page.get_by_text(f"Limit: {uploads.upload_limit_mb()} MB a file")).to_be_visible()  # not only a tooltip
    with page.expect_request(lambda r: "/_stcore/upload_file/" in r.url and r.method == "PUT") as sent:
        page.locator('input[type="file"]').set_input_files(
            files=[{"name": "small.txt", "mimeType": "text/plain", "buffer": b"a small file\n"}])
    upload_path = urllib.parse.urlsplit(sent.value.url).path  # /_stcore/upload_file/<session>/<file id>
    browser_headers = sent.value.all_headers()  # the session's XSRF token and cookie, as the page sends them
    connection = http.client.HTTPConnection("127.0.0.1", app_server.port, timeout=30)
    connection.putrequest("PUT", upload_path)
    for name in ("x-xsrftoken", "cookie"):
        if name in browser_headers:
            connection.putheader(name, browser_headers[name])
    connection.putheader("Content-Type", "multipart/form-data; boundary=x")
    connection.putheader("Content-Length", str(150 * 2**20))
    connection.endheaders()  # the body never follows: the server must answer from the header alone
    assert connection.getresponse().status == 413
    connection.close()


def test_the_owner_cookie_is_set_once_and_kept_across_reloads(open_app):
    """Uploads and models belong to the browser: its owner token lives in a cookie (ui.browser_owner)."""
    from app.ui import OWNER_COOKIE

    page = open_app("train")

    def owner_cookie():
        return next((c["value"] for c in page.context.cookies() if c["name"] == OWNER_COOKIE), None)

    expect(page.get_by_role("heading", name="Your models")).to_be_visible()
    page.wait_for_function(f"document.cookie.includes('{OWNER_COOKIE}=')", timeout=30_000)
    token = owner_cookie()
    assert token and len(token) == 32
    page.reload()
    expect(page.get_by_role("heading", name="Your models")).to_be_visible()
    assert owner_cookie() == token
