"""scripts/serve.sh for real: two workers (127.0.0.2 and 127.0.0.3, stand-ins for two hosts) behind
HAProxy (supervisord keeps them running), the leaderboard on PostgreSQL. First visitors by deep link,
whole games stored, sticky sessions, an upload through the proxy, a worker killed mid-game (told the
game is gone), a worker killed mid-round in a room (told the room goes on, every vote counted, the
worker back within 10 s), PostgreSQL down, a port in use.

Needs Debian's haproxy, postgresql and supervisor (CI installs them; serve.sh installs them when run as root);
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

from app.game import quiz
from app.game.room import RoomStore
from app.ui.quiz import BOARD_SECONDS
from app.ui.serve import MOVED, ROOM_MOVED, SOLO_GAME_COOKIE, WORKER_COOKIE
from bench.load import Played, check_leaderboard, play_quiz
from bench.room_load import has_ballot, wait_for
from bench.visitor import Visitor, cookies_from
from tests.conftest import IN_CI
from tests.e2e.harness import ROOT, free_port, private_model_store, wait_for_app

POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
INSTALLED = bool(shutil.which("haproxy") and POSTGRES_BIN and shutil.which("supervisord"))
if not INSTALLED and IN_CI:
    pytest.fail("CI needs Debian's haproxy, postgresql and supervisor (.ci/run installs them)", pytrace=False)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not INSTALLED, reason="needs Debian's haproxy, postgresql and supervisor")]

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

    def worker_health(self, name: str) -> str:
        return f"http://127.0.0.{int(name.removeprefix('w')) + 1}:{self.worker_port}/_stcore/health"


def back_after(health_url: str, since: float, limit: float = 60) -> float:
    """Seconds from `since` until the worker answers its health check on its own port."""
    while time.monotonic() - since < limit:
        try:
            with urllib.request.urlopen(health_url, timeout=1) as response:
                if response.read().strip() == b"ok":
                    return time.monotonic() - since
        except OSError:
            time.sleep(0.1)
    return float("inf")


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
        page.wait_for_function(f"document.cookie.includes('{SOLO_GAME_COOKIE}=1')")  # the quiz told the browser
        worker = next(c["value"] for c in context.cookies() if c["name"] == WORKER_COOKIE)
        os.kill(room.worker_pid(worker), signal.SIGKILL)
        living = {"w1": "w2", "w2": "w1"}[worker]
        newcomer = Visitor(room.url)
        assert newcomer.worker == living  # new sessions go to the living worker only
        newcomer.close()

        # Streamlit's page reconnects by itself; HAProxy sends it to the living worker, which says what happened
        page.get_by_text(MOVED[:60]).wait_for(timeout=60_000)
        wait_for_app(page)
        page.get_by_role("button", name="New game").click()
        page.get_by_text(re.compile(r"Round 1 of 10")).wait_for(timeout=120_000)
    finally:
        context.close()
    assert check_leaderboard(room.database_url, [], "serve-")[1] == games_before == 2
    # supervisord started the killed worker again
    assert back_after(room.worker_health(worker), time.monotonic()) < 60


def worker_cpu_seconds(pid: int) -> float:
    """CPU time a worker process has used so far (user and system)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def cookies_set_by_scripts(run) -> dict[str, str]:
    """What the page's scripts would have set in a browser (app/ui/serve.py's set_cookie)."""
    return dict(re.findall(r"document\.cookie = '([A-Z_]+)=([^;']*);", "".join(html.body for html in run.of_kind("html"))))


def reconnect(url: str, cookies: dict[str, str]) -> Visitor:
    """What a browser's page does when its websocket closes: connect again, with its cookies, until it can
    (HAProxy answers 502 while the dead worker's connections fail, before its health check marks it down)."""
    for _ in range(50):
        try:
            return Visitor(url, timeout=60, cookies=cookies)
        except Exception:  # noqa: BLE001 - a browser retries whatever went wrong
            time.sleep(0.2)
    return Visitor(url, timeout=60, cookies=cookies)


def test_a_worker_killed_mid_round_comes_back_and_the_room_gets_every_vote(room):
    for name in ("w1", "w2"):  # the worker killed in the test above is back ...
        assert back_after(room.worker_health(name), time.monotonic()) < 60
    time.sleep(2.5)  # ... and HAProxy sends it visitors after two good health checks a second apart
    rooms = RoomStore(room.database_url)
    made_up = [("normal", [quiz.Sentence(f"a made-up sentence for round {n} of the test", True)]) for n in (1, 2)]
    code, secret = rooms.create_room("wiki-sample", "single", "normal", made_up, countdown=120)
    tokens = [rooms.join(code, f"phone {n}") for n in range(6)]
    phones = [Visitor(room.url, timeout=60) for _ in tokens]
    for phone, token in zip(phones, tokens, strict=True):
        phone.cookies.update(cookies_set_by_scripts(phone.open("play", query=f"room={code}&player={token}")))
    assert {phone.worker for phone in phones} == {"w1", "w2"}, [phone.worker for phone in phones]
    victim = "w1"
    presenter_away = threading.Event()

    def presenter_screen() -> None:  # the presenter's open tab checks in every second (else the room pauses)
        while not presenter_away.wait(1):
            rooms.presenter_room(code, secret)

    presenter = threading.Thread(target=presenter_screen)
    presenter.start()
    try:
        def vote(phone: Visitor) -> None:
            wait_for(phone, has_ballot, 60)
            ballot = phone.click("room_human")
            assert any("Your vote" in alert for alert in ballot.alerts()), ballot.alerts()

        rooms.start_round(code, secret)  # what the presenter's Start does
        for phone in phones[::2]:  # half the room votes, then the worker of some phones dies mid-round
            vote(phone)
        killed_at = time.monotonic()
        os.kill(room.worker_pid(victim), signal.SIGKILL)
        back: list[tuple[float, float]] = []

        def watch_it_come_back() -> None:
            seconds = back_after(room.worker_health(victim), killed_at)
            back.append((seconds, worker_cpu_seconds(room.worker_pid(victim))))

        watch = threading.Thread(target=watch_it_come_back)
        watch.start()

        moved = []
        for n, (phone, token) in enumerate(zip(phones, tokens, strict=True)):
            if phone.worker == victim:  # its websocket closed: the browser reconnects with the cookies it has
                phone.close()
                phone = phones[n] = reconnect(room.url, phone.cookies)
                run = phone.open("play", query=f"room={code}&player={token}")
                moved.append(phone)
                assert [toast.body for toast in run.of_kind("toast")] == [ROOM_MOVED], (
                    phone.cookies, [e.WhichOneof("type") for e in run.elements])
                assert not run.alerts() or all("gone" not in alert and "New game" not in alert for alert in run.alerts())
            if n % 2:
                vote(phone)
        assert moved, "no phone was on the killed worker"
        assert rooms.tally(code, 1) == (6, 6)  # every vote of the round, before and after the kill

        rooms.reveal(code, secret)
        rooms.start_round(code, secret)  # the room goes on to its last round
        for phone in phones:
            vote(phone)
        assert rooms.tally(code, 2) == (6, 6)
        rooms.reveal(code, secret)
        rooms.finish(code, secret)
    finally:
        presenter_away.set()
        presenter.join()
    for phone in phones:
        phone.close()
    watch.join()
    seconds, cpu = back[0]
    print(f"the killed worker answered its health check {seconds:.1f} s after the kill, using {cpu:.1f} CPU-s")
    # within 10 s; a machine that gave the new worker less than half a core meanwhile (other jobs on a
    # shared runner) would fail any time limit, so there it only has to come back
    starved = cpu / seconds < 0.5
    assert seconds <= 10 or (starved and seconds < 60), (
        f"the killed worker answered its health check {seconds:.1f} s after the kill ({cpu:.1f} CPU-s)")
    log = (room.run_dir / "logs" / "supervisord.log").read_text()
    assert f"exited: {victim} (terminated by SIGKILL; not expected)" in log


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


def supervisord_log(room: Room) -> list[tuple[float, str]]:
    """(seconds since the epoch, message) of each line of supervisord's log."""
    from datetime import datetime

    lines = []
    for line in (room.run_dir / "logs" / "supervisord.log").read_text().splitlines():
        stamp, _, message = line[:23], line[23:24], line[24:]
        try:
            lines.append((datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp(), message))
        except ValueError:
            continue
    return lines


def test_a_crash_looping_worker_backs_off_is_given_up_and_logged(room):
    supervisorctl = ["supervisorctl", "-c", str(room.run_dir / "supervisord.conf")]
    killed_at = time.time()
    os.kill(room.worker_pid("w2"), signal.SIGKILL)
    with socket.socket() as squatter:  # takes w2's port before it starts again: every start of w2 now fails
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        while True:
            try:
                squatter.bind(("127.0.0.3", room.worker_port))
                break
            except OSError:
                assert time.time() - killed_at < 5
                time.sleep(0.01)
        squatter.listen()
        deadline = time.monotonic() + 240
        while "FATAL" not in subprocess.run([*supervisorctl, "status", "w2"], capture_output=True, text=True).stdout:
            assert time.monotonic() < deadline, supervisord_log(room)[-20:]
            time.sleep(1)
        newcomer = Visitor(room.url)  # the room goes on with the other worker
        assert newcomer.worker == "w1"
        newcomer.close()
    since = [(at, message) for at, message in supervisord_log(room) if at >= killed_at - 1 and "w2" in message]
    assert any("gave up: w2 entered FATAL state, too many start retries too quickly" in m for _, m in since)
    failed = [at for at, message in since if "exited: w2 (exit status 1" in message]
    spawned = [at for at, message in since if "spawned: 'w2'" in message]
    pauses = [min(s for s in spawned if s > exit_at) - exit_at for exit_at in failed if any(s > exit_at for s in spawned)]
    # 1, 2, 3, 4, 5 s between tries: it backs off. On a loaded machine a try can end otherwise than with
    # status 1 (killed while importing) and drop out of the count: at least three pauses, the last the longest.
    assert len(pauses) >= 3 and pauses[-1] == max(pauses) and pauses[-1] > pauses[0] + 1, pauses
    # once the cause is gone, one command starts it again
    subprocess.run([*supervisorctl, "start", "w2"], capture_output=True, timeout=120)
    assert back_after(room.worker_health("w2"), time.monotonic()) < 60
