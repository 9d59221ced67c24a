"""The running app and a real browser, for the browser tests (tests/e2e) and the benchmarks (bench/).

``AppServer`` starts ``streamlit run asgi.py`` (the pages and the room feed) headless on a free loopback port with its own
temporary leaderboard database, model store (the committed bundles linked in, ``user/`` empty) and
checkpoint folder, and waits for ``/_stcore/health``. ``launch_chromium`` starts Debian's Chromium
through Playwright (no browser download). ``wait_for_app`` / ``rerun_after`` wait for Streamlit to
finish a script run; ``page_registered`` says whether a page is in the navigation yet.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from app.game.leaderboard import DATABASE_ENV

ROOT = Path(__file__).resolve().parents[2]
MODEL_STORE = ROOT / "model_store"
CHROMIUM = Path(os.environ.get("ATELIER_CHROMIUM", "/usr/bin/chromium"))
STORE_ENV = "ATELIER_MODEL_STORE"
CHECKPOINTS_ENV = "ATELIER_CHECKPOINTS"
# What the tests and benchmarks run (asgi.py serves streamlit_app.py's pages); another script (say, a draft
# navigation) can be tried with ATELIER_E2E_APP=/path/to/script.py
APP_SCRIPT = os.environ.get("ATELIER_E2E_APP", "asgi.py")
NAVIGATION_SCRIPT = "streamlit_app.py" if APP_SCRIPT == "asgi.py" else APP_SCRIPT

# Streamlit marks its root element with the state of the script run and of the websocket
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
EXCEPTION_BOX = '[data-testid="stException"]'
# The explorer's point-cloud plot once drawn (app/ui/point_cloud.js; Playwright's CSS reaches into its shadow root)
POINT_CLOUD = '[data-testid="stBidiComponentIsolated"] canvas[data-marks]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def private_model_store(directory: Path) -> Path:
    """A model store whose built-in bundles are links to the committed ones and whose user/ is empty,
    so what a test trains never lands in the real store."""
    store = directory / "model_store"
    store.mkdir()
    for entry in MODEL_STORE.iterdir():
        if entry.name != "user" and not entry.name.startswith("."):
            (store / entry.name).symlink_to(entry)
    (store / "user").mkdir()
    return store


@dataclass
class AppServer:
    """``streamlit run asgi.py`` in a subprocess, as scripts/app.sh starts it; use as a context manager."""

    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None  # server stdout/stderr; a temporary file if None
    script: str = APP_SCRIPT

    def __post_init__(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="atelier-e2e-"))
        self.database_url = f"sqlite:///{self.workdir / 'atelier.db'}"
        self.model_store = private_model_store(self.workdir)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> AppServer:
        env = {**os.environ, "PYTHONPATH": str(ROOT), DATABASE_ENV: self.database_url,
               STORE_ENV: str(self.model_store), CHECKPOINTS_ENV: str(self.workdir / "checkpoints"),
               "PYTHONUNBUFFERED": "1", **self.extra_env}
        command = [sys.executable, "-m", "app.serving.launch", "run", self.script,  # streamlit run, as scripts/app.sh
                   "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(self.port),
                   "--server.fileWatcherType", "none"]  # the rest from .streamlit/config.toml, as users get it
        self.log_path = self.log_path or self.workdir / "server.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)  # its own process group: stop() ends all of it
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"streamlit not healthy after {timeout:.0f}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def rss_bytes(self) -> int:
        """Resident memory of the server and its children."""
        import psutil

        parent = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> AppServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(playwright):
    """Headless Debian Chromium. Raises FileNotFoundError if it is not installed."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set ATELIER_CHROMIUM)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=["--no-sandbox", "--disable-dev-shm-usage"])


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the websocket is connected and no script run is in progress."""
    page.wait_for_selector(APP_IDLE, timeout=timeout)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="hidden", timeout=timeout)


RUN_START_GRACE_MS = 5_000  # a run that shows no start within this was too quick to show one


def rerun_after(page, action, timeout: float = 60_000) -> None:
    """Do ``action`` (a click, a key press…) and wait for the script run it starts to finish.

    Waiting for "not running" alone races with the start of the run, so a MutationObserver first
    notes that the run began. Any change of the script state counts: a quick run can be over
    (state back to "notRunning") before the observer's callback reads the attribute. A run quicker
    still can start and end within one of the browser's frames, and the attribute never changes at
    all: after RUN_START_GRACE_MS without a change the wait goes on to the page being idle (the
    tests then wait for what the run draws)."""
    page.evaluate("""() => {
        window.__atelierRunStarted = false;
        const app = document.querySelector('[data-testid="stApp"]');
        const observer = new MutationObserver(() => {
            window.__atelierRunStarted = true; observer.disconnect();
        });
        observer.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    }""")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    action()
    try:
        page.wait_for_function("() => window.__atelierRunStarted === true", timeout=min(timeout, RUN_START_GRACE_MS))
    except PlaywrightTimeout:
        pass
    wait_for_app(page, timeout)


def page_registered(page_file: str) -> bool:
    """Whether pages/<file> exists and the navigation lists it (then it can be tested): the entry script
    names the file, or reads the page list of app/serving/site.py that names it."""
    if not (ROOT / page_file).is_file():
        return False
    navigation = (ROOT / NAVIGATION_SCRIPT).read_text()
    if Path(page_file).name in navigation:
        return True
    if "app.serving.site" not in navigation:
        return False
    from app.serving.site import HOME, PAGES

    return page_file in {page.file for page in [HOME, *PAGES]}


def cloud_marks(page, index: int = 0) -> list[dict]:
    """The marked words of a drawn point cloud (the query and its neighbours), each with its point's
    position on the page: ``{"word", "x", "y"}``."""
    canvas = page.locator(POINT_CLOUD).nth(index)
    box = canvas.bounding_box()
    return [{**mark, "x": box["x"] + mark["x"], "y": box["y"] + mark["y"]}
            for mark in json.loads(canvas.get_attribute("data-marks"))]


def bare_mark(page) -> dict:
    """The lowest-ranked marked neighbour whose point is on screen with nothing (a label) over it:
    where a click or tap reaches the point itself."""
    canvas = page.locator(POINT_CLOUD).first
    for mark in reversed(cloud_marks(page)[1:]):
        if canvas.evaluate("(canvas, [x, y]) => canvas.getRootNode().elementFromPoint(x, y) === canvas",
                           [mark["x"], mark["y"]]):
            return mark
    raise AssertionError("every marked neighbour is off screen or under a label")
