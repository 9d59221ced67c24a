"""docs/serving.md's "hall of 1,000" recipe, for real, across hosts made of Linux network namespaces.

Three namespaces, joined by veth pairs, with private addresses that exist inside them only:

- the proxy host (10.77.1.1 towards the workers, 10.77.2.1 towards the hall): ``scripts/serve.sh
  --workers 0 --pg-address 0.0.0.0 --backend 10.77.1.2:8601 --backend 10.77.1.2:8602``, then the
  recipe's own steps: a ``scram-sha-256`` line in pg_hba.conf for the workers' subnet (and the hall's,
  from which the presenter's side makes the room), a password for the role, a reload;
- the worker host (10.77.1.2): two ``scripts/app.sh`` workers, named remote1 and remote2 as in the
  proxy's list, with the proxy host's cookie secret and the database by password over the veth;
- the hall (10.77.2.2): phones, websocket clients speaking the browser's protocol (bench/visitor.py).
  The hall has no route to the worker host: every request goes through the proxy.

A room of PHONES phones (20; ATELIER_HALL_PHONES=100 for the docs' run) plays two rounds through the proxy; the phones land on both workers, every vote
is counted. Needs root (CAP_NET_ADMIN), ``ip`` and Debian's haproxy and postgresql: without them the
test is skipped and says why, under CI=true too (a CI runner may not lend the capability).

``python -m tests.test_hall phones URL DATABASE_URL N`` is the hall's side, run inside its namespace.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PHONES = int(os.environ.get("ATELIER_HALL_PHONES", "20"))  # docs/serving.md records a run of 100
PROXY_PORT, WORKER_PORTS, PG_PORT = 8080, (8601, 8602), 5433
PROXY_TO_WORKERS, WORKER_HOST, PROXY_TO_HALL, HALL = "10.77.1.1", "10.77.1.2", "10.77.2.1", "10.77.2.2"


def cannot_make_hosts() -> str | None:
    """Why this machine cannot make network namespaces, or None when it can."""
    if not shutil.which("ip"):
        return "needs the `ip` command (Debian: iproute2)"
    if not (shutil.which("haproxy") and list(Path("/usr/lib/postgresql").glob("*/bin"))):
        return "needs Debian's haproxy and postgresql"
    probe = f"atelier-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace (needs CAP_NET_ADMIN): {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def sh(*command: str, namespace: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    result = subprocess.run([*prefix, *command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


class Hall:
    """The three hosts; a context manager that takes everything down on the way out."""

    def __init__(self) -> None:
        tag = f"{os.getpid()}"
        self.proxy_host, self.worker_host, self.hall = (f"atelier-proxy-{tag}", f"atelier-workers-{tag}",
                                                        f"atelier-hall-{tag}")
        self.folder = Path(tempfile.mkdtemp(prefix="atelier-hall-"))
        self.folder.chmod(0o755)  # PostgreSQL's own user enters it
        self.run_dir = self.folder / "run"
        self.workers: list[subprocess.Popen] = []
        from tests.e2e.harness import private_model_store

        self.env = {**os.environ, "ATELIER_RUN_DIR": str(self.run_dir),
                    "ATELIER_MODEL_STORE": str(private_model_store(self.folder)),
                    "ATELIER_CHECKPOINTS": str(self.folder / "ckpt")}
        for name in ("ATELIER_DATABASE_URL", "ATELIER_PUBLIC_URL", "ATELIER_WORKER_NAME"):
            self.env.pop(name, None)

    def __enter__(self) -> Hall:
        for namespace in (self.proxy_host, self.worker_host, self.hall):
            sh("ip", "netns", "add", namespace)
            sh("ip", "link", "set", "lo", "up", namespace=namespace)
        links = [(self.proxy_host, PROXY_TO_WORKERS, self.worker_host, WORKER_HOST),
                 (self.proxy_host, PROXY_TO_HALL, self.hall, HALL)]
        for number, (here, here_address, there, there_address) in enumerate(links):
            # both ends made inside their namespaces: the machine's own network never sees them
            sh("ip", "link", "add", f"link{number}a", "netns", here, "type", "veth", "peer", "name", f"link{number}b",
               "netns", there)
            for namespace, end, address in [(here, f"link{number}a", here_address),
                                            (there, f"link{number}b", there_address)]:
                sh("ip", "addr", "add", f"{address}/24", "dev", end, namespace=namespace)
                sh("ip", "link", "set", end, "up", namespace=namespace)
        return self

    def __exit__(self, *_) -> None:
        for worker in self.workers:
            try:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(worker.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        subprocess.run(["bash", str(ROOT / "scripts" / "serve.sh"), "stop"], env=self.env, capture_output=True,
                       timeout=120)
        for namespace in (self.proxy_host, self.worker_host, self.hall):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    def python(self, namespace: str, code: str, *args: str, timeout: float = 300) -> str:
        return sh(str(ROOT / ".venv" / "bin" / "python"), "-c", code, *args, namespace=namespace, cwd=ROOT,
                  env=self.env, timeout=timeout).stdout


WAIT_HEALTHY = """
import sys, time, urllib.request
deadline = time.monotonic() + float(sys.argv[1])
for address in sys.argv[2:]:
    while True:
        try:
            with urllib.request.urlopen(f"http://{address}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    break
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"{address} not healthy")
            time.sleep(0.5)
"""


def play_room(url: str, database_url: str, phones: int) -> dict:
    """The hall's side: a room of `phones` phones, two rounds, every phone votes in each, through the proxy."""
    sys.path.insert(0, str(ROOT))
    from app.game import quiz
    from app.game.room import RoomStore
    from bench.room_load import has_ballot, wait_for
    from bench.visitor import Visitor

    rooms = RoomStore(database_url)
    dealt = [("normal", [quiz.Sentence(f"a made-up sentence for round {n} in the hall", True)]) for n in (1, 2)]
    code, secret = rooms.create_room("wiki-sample", "single", "normal", dealt, countdown=120)
    tokens = [rooms.join(code, f"phone {n}") for n in range(phones)]
    presenter_away = threading.Event()

    def presenter_screen() -> None:  # the presenter's open tab checks in every second (else the room pauses)
        while not presenter_away.wait(1):
            rooms.presenter_room(code, secret)

    threading.Thread(target=presenter_screen, daemon=True).start()
    opened = time.monotonic()
    crowd = [Visitor(url, timeout=120) for _ in tokens]
    for phone, token in zip(crowd, tokens, strict=True):
        phone.open("play", query=f"room={code}&player={token}")
    result = {"phones": phones, "workers": dict(Counter(phone.worker for phone in crowd)),
              "open_s": time.monotonic() - opened, "errors": [], "rounds": []}
    for number in (1, 2):
        started = time.monotonic()
        rooms.start_round(code, secret)
        seen, answered = [0.0] * phones, [0.0] * phones

        def vote(n: int, started: float = started, seen: list = seen, answered: list = answered) -> None:
            try:
                seen[n] = wait_for(crowd[n], has_ballot, 60) - started
                ballot = crowd[n].click("room_human")
                answered[n] = time.monotonic() - started
                if not any("Your vote" in alert for alert in ballot.alerts()):
                    result["errors"].append(f"phone {n}: {ballot.alerts()}")
            except Exception as error:  # noqa: BLE001 - counted and reported
                result["errors"].append(f"phone {n}: {error!r}")

        threads = [threading.Thread(target=vote, args=(n,)) for n in range(phones)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result["rounds"].append({"votes": rooms.tally(code, number)[0],
                                 "seen_p95_s": statistics.quantiles(seen, n=20)[-1],
                                 "all_voted_s": max(answered)})
        rooms.reveal(code, secret)
    rooms.finish(code, secret)
    presenter_away.set()
    for phone in crowd:
        phone.close()
    return result


@pytest.mark.slow
def test_a_room_plays_through_the_proxy_across_hosts():
    reason = cannot_make_hosts()
    if reason:
        pytest.skip(reason)
    started = time.monotonic()
    with Hall() as hall:
        # 1. the proxy and database host, as the recipe says
        backends = [arg for port in WORKER_PORTS for arg in ("--backend", f"{WORKER_HOST}:{port}")]
        sh("bash", "scripts/serve.sh", "--workers", "0", "--pg-address", "0.0.0.0", *backends,
           "--port", str(PROXY_PORT), "--address", "0.0.0.0", namespace=hall.proxy_host, cwd=ROOT, env=hall.env,
           timeout=400)
        password = secrets.token_hex(16)
        hba = hall.run_dir / "pg" / "data" / "pg_hba.conf"
        with hba.open("a") as lines:
            for subnet in ("10.77.1.0/24", "10.77.2.0/24"):
                lines.write(f"host atelier atelier {subnet} scram-sha-256\n")
        pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        sh(*as_postgres, str(pg_bin / "psql"), "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "atelier", "-d", "atelier",
           "-c", f"ALTER ROLE atelier PASSWORD '{password}'", namespace=hall.proxy_host)
        sh(*as_postgres, str(pg_bin / "pg_ctl"), "-D", str(hall.run_dir / "pg" / "data"), "reload")

        # 2. the worker host: one scripts/app.sh per core, the database by password across the veth
        database_url = f"postgresql+psycopg://atelier:{password}@{PROXY_TO_WORKERS}:{PG_PORT}/atelier"
        secret = (hall.run_dir / "cookie_secret").read_text().strip()
        public_url = f"http://{PROXY_TO_HALL}:{PROXY_PORT}"
        for number, port in enumerate(WORKER_PORTS, start=1):
            env = {**hall.env, "ATELIER_DATABASE_URL": database_url, "STREAMLIT_SERVER_COOKIE_SECRET": secret,
                   "ATELIER_WORKER_NAME": f"remote{number}", "ATELIER_PUBLIC_URL": public_url + "/"}
            log = (hall.run_dir / "logs" / f"remote{number}.log").open("w")
            hall.workers.append(subprocess.Popen(
                ["ip", "netns", "exec", hall.worker_host, "bash", "scripts/app.sh", "--server.headless", "true",
                 "--server.address", "0.0.0.0", "--server.port", str(port)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        hall.python(hall.proxy_host, WAIT_HEALTHY, "240", *(f"{WORKER_HOST}:{port}" for port in WORKER_PORTS))
        time.sleep(3)  # HAProxy marks a server up after two good checks a second apart

        # the hall cannot reach the worker host: only the proxy
        unreachable = hall.python(hall.hall, "import socket\ntry:\n socket.create_connection(('10.77.1.2', 8601), 2)"
                                  "\n print('reached')\nexcept OSError as e:\n print(e)")
        assert "reached" not in unreachable

        # 3. the room, through the proxy, from the hall (the room is made with the database's password)
        ready = time.monotonic()
        hall_database_url = f"postgresql+psycopg://atelier:{password}@{PROXY_TO_HALL}:{PG_PORT}/atelier"
        out = sh(str(ROOT / ".venv" / "bin" / "python"), "-m", "tests.test_hall", "phones", public_url,
                 hall_database_url, str(PHONES), namespace=hall.hall, cwd=ROOT, env=hall.env, timeout=400).stdout
        result = json.loads(out.strip().splitlines()[-1])
        result["set_up_s"], result["room_s"] = ready - started, time.monotonic() - ready
        print("hall:", json.dumps(result))
    assert not result["errors"], result["errors"][:5]
    assert set(result["workers"]) == {"remote1", "remote2"}, result["workers"]  # phones on both workers
    assert [r["votes"] for r in result["rounds"]] == [PHONES, PHONES]


if __name__ == "__main__" and sys.argv[1:2] == ["phones"]:
    print(json.dumps(play_room(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
