"""scripts/serve.sh for real: two workers (127.0.0.2 and 127.0.0.3, stand-ins for two hosts) behind
HAProxy, the leaderboard on PostgreSQL. First visitors by deep link, whole games stored, sticky
sessions, an upload through the proxy, a worker killed mid-game, PostgreSQL down, a port in use.

Needs Debian's haproxy and postgresql (CI installs them; serve.sh installs them when run as root);
without them the module is skipped, or fails under CI=true. The tests run in file order on one room.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.ui.quiz import BOARD_SECONDS
from app.ui.serve import MOVED, WORKER_COOKIE
from bench.load import Played, check_leaderboard, play_quiz
from bench.visitor import Visitor, cookies_from
from tests.conftest import IN_CI
from tests.e2e.harness import ROOT, free_port, private_model_store, wait_for_app

POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
INSTALLED = bool(shutil.which("haproxy") and POSTGRES_BIN)
if not INSTALLED and IN_CI:
    pytest.fail("CI needs Debian's haproxy and postgresql (.ci/run installs them)", pytrace=False)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not INSTALLED, reason="needs Debian's haproxy and postgresql")]

SERVE = ["bash", str(ROOT / "scripts" / "serve.sh")]


@dataclass
class Room:
    url: str
    run_dir: Path
    worker_port: int
    env: dict

    @property
    def database_url(self) -> str:
        return (self.run_dir / "database_url").read_text().strip()

    def worker_pid(self, name: str) -> int:
        return int((self.run_dir / f"worker-{name.removeprefix('w')}.pid").read_text())


def run_folder() -> Path:
    """A run/ folder that PostgreSQL's own user can enter (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="atelier-serve-"))
    folder.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def room():
    folder = run_folder()
    env = {**os.environ, "ATELIER_RUN_DIR": str(folder / "run"),
           "ATELIER_MODEL_STORE": str(private_model_store(folder)), "ATELIER_CHECKPOINTS": str(folder / "ckpt")}
    env.pop("ATELIER_DATABASE_URL", None)
    env.pop("ATELIER_PUBLIC_URL", None)
    port, worker_port, pg_port = free_port(), free_port(), free_port()
    started = subprocess.run([*SERVE, "--workers", "2", "--port", str(port), "--address", "127.0.0.1",
                              "--worker-port", str(worker_port), "--pg-port", str(pg_port)],
                             env=env, capture_output=True, text=True, timeout=400)
    try:
        assert started.returncode == 0, started.stderr[-3000:]
        yield Room(f"http://127.0.0.1:{port}", folder / "run", worker_port, env)
    finally:
        subprocess.run([*SERVE, "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_port_in_use_is_refused_with_a_clear_message():
    folder = run_folder()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*SERVE, "--workers", "1", "--port", str(port), "--address", "127.0.0.1"],
                                env={**os.environ, "ATELIER_RUN_DIR": str(folder / "run")},
                                capture_output=True, text=True, timeout=300)
    shutil.rmtree(folder, ignore_errors=True)
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr and "Traceback" not in result.stderr


def test_first_visitors_by_deep_link_play_whole_games_stored_in_postgres(room):
    # each one's first run is the first session of its fresh worker, opened at /fake-or-real
    # (a "Page not found" there raises in the visitor)
    visitors = [Visitor(room.url), Visitor(room.url)]
    assert sorted(v.worker for v in visitors) == ["w1", "w2"]  # a new session goes to the idler worker
    played = [Played(f"serve-{v.worker}") for v in visitors]
    errors = []

    def play(visitor, record):
        try:
            play_quiz(visitor, record, random.Random(record.nickname))
        except Exception as error:  # noqa: BLE001 - reported below, with the other visitor's
            errors.append(f"{record.nickname}: {error}")
        finally:
            visitor.close()

    threads = [threading.Thread(target=play, args=pair) for pair in zip(visitors, played, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert room.database_url.startswith("postgresql")
    problems, games, answers = check_leaderboard(room.database_url, played, "serve-")
    assert not problems and (games, answers) == (2, 20), problems


def established(pid: int, port: int) -> int:
    import psutil

    return sum(1 for c in psutil.Process(pid).net_connections("tcp")
               if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)


def test_a_browser_stays_on_its_worker_by_the_proxys_cookie(room):
    with urllib.request.urlopen(room.url + "/") as response:
        cookies = cookies_from(response.headers.get_all("Set-Cookie"))
    mine = cookies[WORKER_COOKIE]
    other = {"w1": "w2", "w2": "w1"}[mine]
    before = {name: established(room.worker_pid(name), room.worker_port) for name in (mine, other)}
    tabs = [Visitor(room.url, cookies=cookies) for _ in range(3)]  # three tabs of one browser
    for tab in tabs:
        tab.open("")
    after = {name: established(room.worker_pid(name), room.worker_port) for name in (mine, other)}
    for tab in tabs:
        tab.close()
    assert after[mine] - before[mine] == 3 and after[other] == before[other]


def test_an_upload_goes_through_the_proxy(room, browser, tmp_path):
    lines = [" ".join(random.Random(n).choices(["red", "silk", "dress", "fits", "well", "and", "the"], k=12))
             for n in range(300)]
    upload = tmp_path / "my-texts.txt"
    upload.write_text("\n".join(lines))
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(room.url + "/train")
        wait_for_app(page)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
        # the file went up (Streamlit's XSRF-checked PUT, through HAProxy) and the page read it
        page.get_by_role("heading", name="2 · Preview").wait_for(timeout=120_000)
    finally:
        context.close()


def test_a_killed_worker_moves_its_visitors_and_loses_no_saved_game(room, browser):
    games_before = check_leaderboard(room.database_url, [], "serve-")[1]
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(room.url + "/fake-or-real")
        wait_for_app(page)
        page.get_by_role("button", name="New game").click()
        page.get_by_text(re.compile(r"Round 1 of 10")).wait_for(timeout=120_000)
        worker = next(c["value"] for c in context.cookies() if c["name"] == WORKER_COOKIE)
        os.kill(room.worker_pid(worker), signal.SIGKILL)

        # Streamlit's page reconnects by itself; HAProxy sends it to the living worker, which says what happened
        page.get_by_text(MOVED[:60]).wait_for(timeout=60_000)
        wait_for_app(page)
        page.get_by_role("button", name="New game").click()
        page.get_by_text(re.compile(r"Round 1 of 10")).wait_for(timeout=120_000)
    finally:
        context.close()
    living = {"w1": "w2", "w2": "w1"}[worker]
    newcomer = Visitor(room.url)
    assert newcomer.worker == living  # new sessions go to the living worker only
    newcomer.close()
    assert check_leaderboard(room.database_url, [], "serve-")[1] == games_before == 2


def test_with_postgres_down_the_board_is_unavailable_and_the_game_plays(room):
    pg_ctl = [str(POSTGRES_BIN[-1] / "pg_ctl"), "-D", str(room.run_dir / "pg" / "data"), "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:
        pg_ctl = ["runuser", "-u", "postgres", "--", *pg_ctl]
    subprocess.run(pg_ctl, check=True, capture_output=True, timeout=60)
    time.sleep(BOARD_SECONDS + 0.5)  # a worker shows its last reading of the board for up to this long
    visitor = Visitor(room.url)
    try:
        run = visitor.open("fake-or-real")
        assert any("leaderboard" in alert.lower() and "game goes on" in alert for alert in run.alerts()), run.alerts()
        run = visitor.click("quiz_new_game")
        assert any("Round 1 of 10" in p.text for p in run.of_kind("progress"))
        run = visitor.click("quiz_human")
        assert any(alert.startswith(("Right!", "Wrong!")) for alert in run.alerts())
    finally:
        visitor.close()
