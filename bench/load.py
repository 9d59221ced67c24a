"""Load test: a roomful of visitors at once, each querying the explorer and playing a whole quiz game.

    python bench/load.py --visitors 30                 # its own one-process server (scripts/app.sh's way)
    python bench/load.py --url http://127.0.0.1:8501 --visitors 100     # a running scripts/serve.sh
    python bench/load.py --url http://127.0.0.1:8501 --visitors 100 --kill-worker-after 60
    python bench/load.py --url http://127.0.0.1:8501 --visitors 100 --think 3   # people read before clicking
    python bench/load.py --url http://127.0.0.1:8501 --visitors 100 --think 3 --arrive-over 30  # and trickle in
    python bench/load.py --visitors 5 --queries 2      # a smoke run
    python bench/load.py --scenario room --visitors 100   # room mode: 100 phones vote at once (bench/room_load.py)
    python bench/load.py --url http://127.0.0.1:8501 --visitors 100 --think 3 --arrive-over 30 --write-docs
                                                        # and the run's row into docs/serving.md's table

Each visitor is a Streamlit websocket client speaking the browser's protocol (bench/visitor.py): like
a browser it first loads the page over HTTP (keeping HAProxy's sticky-session cookie), then opens the
websocket, sets widgets by their keys and waits for each script run to finish: the server does what a
browser tab makes it do, without the drawing. A hundred Chromium tabs would need far more CPU than
this 2-core machine has.

What a visitor does is a list of scenarios (functions below): 5 explorer queries (a typo, HTML, emoji
and empty input among them), then a whole quiz game of 10 rounds saved to the leaderboard. Another
scenario is one more function and one more entry in SCENARIOS.

Reports p50/p95 interaction latency (send → script run finished), errors (exception boxes, wrong
pages, missing results, timeouts: must be 0), the peak total RSS of the server's processes (with
--url: every worker, HAProxy and PostgreSQL that scripts/serve.sh started, from run/), and checks that
the leaderboard holds exactly the games and answers the visitors played. --kill-worker-after S kills
one worker with SIGKILL S seconds in: its visitors reconnect as a browser does, must be told they
moved, and replay what they were doing; the others must not notice. First comes the run as a row of
docs/serving.md's table (--write-docs writes it there), then the report; the last line is the summary:
``visitors=100 errors=0 p50_ms=… p95_ms=… newgame_p95_ms=… rss_mb=… games=100 answers=1000``.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import string
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.doc_tables import add_write_docs_flag, write_docs  # noqa: E402
from bench.visitor import ConnectionLost, ScriptRun, VisitError, Visitor  # noqa: E402
from tests.e2e.harness import AppServer, page_registered  # noqa: E402

EXPLORER, QUIZ = "explorer", "fake-or-real"
KNOWN_WORDS = ["dress", "silk", "petite", "jeans", "sweater", "blue", "linen", "summer"]
ODD_QUERIES = ["dresss", "<b>x</b>", "👗", ""]  # a typo, HTML, an emoji, nothing: each gets a message
ROUNDS = 10
MOVED_MESSAGE = "moved you to another one"  # what app/ui/serve.py tells a visitor of a dead worker


# ---------------------------------------------------------------- what a visitor does (scenarios)


@dataclass
class Played:
    """One visitor's record: latencies by interaction, errors, and the quiz game it should have stored."""

    nickname: str
    latencies: dict[str, list[float]] = field(default_factory=dict)
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (finished at, seconds) per interaction
    errors: list[str] = field(default_factory=list)
    guesses: list[str] = field(default_factory=list)  # human / lstm, in round order
    points: list[int] = field(default_factory=list)
    saved: bool = False
    saved_at: float | None = None
    workers: list[str] = field(default_factory=list)  # the worker(s) it was on, in order
    told_moved: bool = False  # after its worker died: the page said so
    auto_reruns: list[float] = field(default_factory=list)  # seconds of each timed refresh (the board's)
    think: float = 0.0  # mean seconds a person reads before the next click (0: clicks at once)

    def time(self, kind: str, run: ScriptRun) -> ScriptRun:
        self.latencies.setdefault(kind, []).append(run.seconds)
        self.timeline.append((time.time(), run.seconds))
        if self.think:
            time.sleep(random.uniform(0.5, 1.5) * self.think)
        return run


Scenario = Callable[[Visitor, Played, random.Random], None]


def query_explorer(visitor: Visitor, played: Played, rng: random.Random, queries: int = 5) -> None:
    played.time("open explorer", visitor.open(EXPLORER))
    for word in rng.sample(KNOWN_WORDS + ODD_QUERIES, queries):
        run = played.time("explorer query", visitor.type("explorer_word", word))
        if word in KNOWN_WORDS and not any(rows >= 5 for rows in run.table_rows()):
            raise VisitError(f"no neighbours listed for {word!r}")
        if word in ODD_QUERIES[:3] and not run.alerts():
            raise VisitError(f"no message for the query {word!r}")


def play_quiz(visitor: Visitor, played: Played, rng: random.Random) -> None:
    played.guesses, played.points = [], []  # a game lost with its worker is played again from the start
    played.time("open quiz", visitor.open(QUIZ))
    run = played.time("new game", visitor.click("quiz_new_game"))
    for number in range(1, ROUNDS + 1):
        progress = [p.text for p in run.of_kind("progress")]
        if not any(f"Round {number} of {ROUNDS}" in text for text in progress):
            raise VisitError(f"expected round {number}, saw {progress or run.alerts()}")
        says_human = rng.random() < 0.5
        kind = "first answer of a game" if number == 1 else "quiz answer"  # the first reveal warms up more
        run = played.time(kind, visitor.click("quiz_human" if says_human else "quiz_lstm"))
        verdict = next((a for a in run.alerts() if a.startswith(("Right!", "Wrong!"))), None)
        if verdict is None:
            raise VisitError(f"no verdict after round {number}: {run.alerts()}")
        played.guesses.append("human" if says_human else "lstm")
        played.points.append(int(verdict.split()[1]))  # "Right! +1 point"
        run = played.time("next round", visitor.click("quiz_next"))
    run = played.time("save score", visitor.type("quiz_nickname", played.nickname, then_click="quiz_save"))
    played.saved = any("on the room's leaderboard" in a for a in run.alerts())
    played.saved_at = time.time()
    if not played.saved:
        raise VisitError(f"score not saved: {run.alerts()}")


def scenarios(queries: int) -> list[tuple[str, Scenario]]:
    """What each visitor does, in order (a page missing from the app is left out)."""
    chosen = []
    if page_registered("pages/embeddings.py") and queries:
        chosen.append(("explorer", lambda v, p, r: query_explorer(v, p, r, queries)))
    if page_registered("pages/fake_or_real.py"):
        chosen.append(("quiz", play_quiz))
    return chosen


def reconnect(base_url: str, lost: Visitor, played: Played) -> Visitor:
    """What the browser does when its websocket drops: connect again with the cookies it has (HAProxy
    then picks a living worker) and rerun the page; the page must say the visitor moved."""
    deadline = time.monotonic() + 30
    while True:
        try:
            visitor = Visitor(base_url, cookies=lost.cookies)
            run = visitor.open("")
            break
        except Exception as error:  # noqa: BLE001 - refused, 503 while the proxy notices: the browser retries too
            if time.monotonic() > deadline:
                raise VisitError(f"could not reconnect: {error}") from error
            time.sleep(0.5)
    played.workers.append(visitor.worker or "?")
    played.told_moved = (any(MOVED_MESSAGE in alert for alert in run.alerts())  # a solo game in progress is gone
                         or any(toast.body.startswith("Reconnected") for toast in run.of_kind("toast")))  # else
    if lost.worker and not played.told_moved:
        raise VisitError(f"moved from {lost.worker} to {visitor.worker} without a word: {run.alerts()}")
    return visitor


def visit(base_url: str, number: int, plan: list[tuple[str, Scenario]], start: threading.Barrier,
          nickname: str, think: float = 0.0, arrive_over: float = 0.0) -> Played:
    played = Played(nickname=nickname, think=think)
    rng = random.Random(number)
    try:
        visitor = Visitor(base_url)
        played.workers.append(visitor.worker or "-")
    except Exception as error:
        played.errors.append(f"connect: {error}")
        start.wait()
        return played
    start.wait()
    time.sleep(rng.uniform(0, arrive_over))  # a room scanning a QR code arrives over some seconds
    try:
        for _name, scenario in plan:
            try:
                scenario(visitor, played, rng)
            except ConnectionLost:  # its worker died: reconnect as the browser does, then start this part again
                played.auto_reruns += visitor.auto_seconds
                visitor = reconnect(base_url, visitor, played)
                scenario(visitor, played, rng)
    except Exception as error:  # one visitor's failure is counted, the others go on
        played.errors.append(f"{type(error).__name__}: {error}"[:300])
    finally:
        played.auto_reruns += visitor.auto_seconds
        visitor.close()
    return played


# ---------------------------------------------------------------- the room, and the checks afterwards


def check_leaderboard(database_url: str, visitors: list[Played], prefix: str) -> tuple[list[str], int, int]:
    """(differences between the database and what the visitors played, games, answers) for the games of
    this run (nicknames starting with prefix): no difference means exactly as expected."""
    from sqlalchemy import create_engine, select

    from app.game import leaderboard

    engine = create_engine(database_url)
    with engine.connect() as connection:
        games = connection.execute(select(leaderboard.games)
                                   .where(leaderboard.games.c.nickname.startswith(prefix))).all()
        ids = [g.id for g in games]
        answers = connection.execute(select(leaderboard.answers).where(leaderboard.answers.c.game_id.in_(ids))
                                     .order_by(leaderboard.answers.c.game_id, leaderboard.answers.c.round)).all()
    engine.dispose()
    problems = []
    expected = {p.nickname: p for p in visitors if p.saved}
    stored = {g.nickname: g for g in games}
    if sorted(stored) != sorted(expected) or len(games) != len(expected):
        problems.append(f"games: stored {len(games)} ({sorted(stored)[:5]}…), expected {len(expected)}")
    for nickname, played in expected.items():
        game = stored.get(nickname)
        if game is None:
            continue
        rows = [a for a in answers if a.game_id == game.id]
        if [a.guess for a in rows] != played.guesses:
            problems.append(f"{nickname}: guesses {[a.guess for a in rows]} != played {played.guesses}")
        if [a.points for a in rows] != played.points or game.score != sum(played.points):
            problems.append(f"{nickname}: points {[a.points for a in rows]} (score {game.score}) "
                            f"!= shown {played.points}")
    if len(answers) != ROUNDS * len(expected):
        problems.append(f"{len(answers)} answers stored, expected {ROUNDS * len(expected)}")
    return problems, len(games), len(answers)


def served_by(run_dir: Path) -> Callable[[], list[int]]:
    """The pids of what scripts/serve.sh started (workers, HAProxy, PostgreSQL), read from run/ anew
    each time: a killed worker drops out."""

    def pids() -> list[int]:
        found = []
        for pid_file in [*sorted(run_dir.glob("worker-*.pid")), run_dir / "haproxy.pid",
                         run_dir / "pg" / "data" / "postmaster.pid"]:
            if pid_file.exists():
                found.append(int(pid_file.read_text().split()[0]))
        return found

    return pids


class ServerMeter(threading.Thread):
    """Samples the server's processes (and their children) twice a second: peak total RSS, and the
    CPU seconds they spent (what the work costs, whatever else the machine runs)."""

    def __init__(self, pids: Callable[[], list[int]]):
        super().__init__(daemon=True)
        self.pids, self.peak, self.running = pids, 0, True
        self.cpu_first: dict[int, float] = {}
        self.cpu_last: dict[int, float] = {}

    def sample(self) -> int:
        import psutil

        total = 0
        for pid in self.pids():
            try:
                parent = psutil.Process(pid)
                family = [parent, *parent.children(recursive=True)]
                total += sum(p.memory_info().rss for p in family)
                times = parent.cpu_times()  # children_*: the finished ones (PostgreSQL's backends)
                cpu = times.user + times.system + times.children_user + times.children_system + sum(
                    sum(p.cpu_times()[:2]) for p in family[1:])
                self.cpu_first.setdefault(pid, cpu)
                self.cpu_last[pid] = cpu
            except psutil.Error:
                pass  # gone (a killed worker) or going
        return total

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_last[pid] - first for pid, first in self.cpu_first.items())

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.sample())
            time.sleep(0.5)
        self.sample()


@dataclass
class WorkerKill:
    """kill -9 one worker of scripts/serve.sh after a delay; when, and which."""

    run_dir: Path
    after: float
    worker: str = "w1"
    at: float | None = None

    def start(self) -> None:
        threading.Timer(self.after, self.kill).start()

    def kill(self) -> None:
        pid = int((self.run_dir / f"worker-{self.worker.removeprefix('w')}.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        self.at = time.time()


def percentile_ms(seconds: list[float], q: float) -> float:
    return 1000 * float(np.percentile(seconds, q)) if seconds else float("nan")


def kill_report(visitors: list[Played], kill: WorkerKill) -> list[str]:
    """How the dead worker's visitors and the others fared."""
    if kill.at is None:
        return [f"worker kill: none, the visitors were done before {kill.after:.0f} s"]
    victims = [p for p in visitors if p.workers[:1] == [kill.worker]]
    moved = [p for p in victims if len(p.workers) > 1]
    others = [p for p in visitors if p.workers[:1] != [kill.worker]]
    after = [s for p in others for when, s in p.timeline if kill.at and when > kill.at]
    before = [s for p in others for when, s in p.timeline if kill.at and when <= kill.at]
    return [f"worker kill: {kill.worker} killed with SIGKILL {kill.after:.0f} s in",
            f"  its visitors: {len(victims)}, moved to a living worker: {len(moved)} "
            f"(to {sorted({p.workers[-1] for p in moved})}), told so: {sum(p.told_moved for p in moved)}, "
            f"errors: {sum(len(p.errors) for p in victims)}, saved their game: {sum(p.saved for p in victims)}",
            f"  games saved before the kill: {sum(1 for p in visitors if p.saved_at and p.saved_at < kill.at)} "
            "(the leaderboard check above found every saved game)",
            f"  visitors on the other worker(s): {len(others)}, errors: {sum(len(p.errors) for p in others)}, "
            f"saved their game: {sum(p.saved for p in others)}, p95 before the kill {percentile_ms(before, 95):.0f} ms, "
            f"after {percentile_ms(after, 95):.0f} ms"]


def report(visitors: list[Played], wall: float, meter: ServerMeter, db_problems: list[str]) -> str:
    kinds = sorted({kind for p in visitors for kind in p.latencies})
    every = [s for p in visitors for seconds in p.latencies.values() for s in seconds]
    lines = ["| interaction | count | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    for kind in [*kinds, "all"]:
        seconds = every if kind == "all" else [s for p in visitors for s in p.latencies.get(kind, [])]
        lines.append(f"| {kind} | {len(seconds)} | {percentile_ms(seconds, 50):.0f} | {percentile_ms(seconds, 95):.0f} "
                     f"| {1000 * max(seconds, default=0):.0f} |")
    auto = [s for p in visitors for s in p.auto_reruns]  # not a visitor's interaction: not in "all"
    lines.append(f"| (board refresh, every 5 s by itself) | {len(auto)} | {percentile_ms(auto, 50):.0f} "
                 f"| {percentile_ms(auto, 95):.0f} | {1000 * max(auto, default=0):.0f} |")
    errors = [f"{p.nickname}: {e}" for p in visitors for e in p.errors]
    workers = sorted({p.workers[0] for p in visitors if p.workers})
    lines += ["", f"visitors: {len(visitors)}, wall time {wall:.0f} s, interactions {len(every)}, "
              f"median per visitor {statistics.median(len(sum(p.latencies.values(), [])) for p in visitors)}, "
              f"first worker of each: {', '.join(f'{w} {sum(p.workers[:1] == [w] for p in visitors)}' for w in workers)}",
              f"errors: {len(errors)}", *[f"  - {e}" for e in errors[:20]],
              f"peak RSS of the server's processes: {meter.peak / 2**20:.0f} MB; their CPU time: "
              f"{meter.cpu_seconds:.0f} s ({meter.cpu_seconds / max(wall, 1e-9):.2f} cores busy on average, "
              f"{1000 * meter.cpu_seconds / max(1, len(every) + len(auto)):.0f} ms per run, "
              f"{meter.cpu_seconds / max(1, len(visitors)):.2f} s per visitor)",
              f"leaderboard check: {'exactly the expected games and answers' if not db_problems else 'FAILED'}",
              *[f"  - {p}" for p in db_problems[:20]]]
    return "\n".join(lines)


def summary(visitors: list[Played], peak_rss: int, games: int, answers: int) -> str:
    every = [s for p in visitors for seconds in p.latencies.values() for s in seconds]
    new_games = [s for p in visitors for s in p.latencies.get("new game", [])]
    return (f"visitors={len(visitors)} errors={sum(len(p.errors) for p in visitors)} "
            f"p50_ms={percentile_ms(every, 50):.0f} p95_ms={percentile_ms(every, 95):.0f} "
            f"newgame_p95_ms={percentile_ms(new_games, 95):.0f} rss_mb={peak_rss / 2**20:.0f} "
            f"games={games} answers={answers}")


def docs_table(visitors: list[Played], meter: ServerMeter, games: int, answers: int, server: str, think: float,
               arrive_over: float) -> str:
    """The run as one row of docs/serving.md's load table (one row per server, visitors, think and arrivals)."""
    def latency(ms: float) -> str:
        return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"

    every = [s for p in visitors for seconds in p.latencies.values() for s in seconds]
    new_games = [s for p in visitors for s in p.latencies.get("new game", [])]
    return "\n".join([
        "| server | visitors | think | arrivals | errors | p50 | p95 | New game p95 | peak RSS, all processes "
        "| board afterwards | server CPU per visitor |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        f"| {server} | {len(visitors)} | {think:g} s | {f'over {arrive_over:g} s' if arrive_over else 'same instant'} "
        f"| {sum(len(p.errors) for p in visitors)} | {latency(percentile_ms(every, 50))} "
        f"| {latency(percentile_ms(every, 95))} | {latency(percentile_ms(new_games, 95))} | {meter.peak / 2**20:,.0f} MB "
        f"| {games:,} games, {answers:,} answers | {meter.cpu_seconds / max(1, len(visitors)):.2f} s |"])


def run_room(base_url: str, visitors: int, plan: list[tuple[str, Scenario]], memory: ServerMeter,
             kill: WorkerKill | None, prefix: str, think: float = 0.0,
             arrive_over: float = 0.0) -> tuple[list[Played], float]:
    """Warm every worker up (models load once per process, on a page's first visit), then let the room in."""
    warm = [Visitor(base_url) for _ in range(4)]  # new sessions go to the least busy worker: all get some

    def open_every_page(visitor: Visitor) -> None:
        for page in ["", EXPLORER, QUIZ]:
            visitor.open(page)

    threads = [threading.Thread(target=open_every_page, args=(v,)) for v in warm]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for v in warm:
        v.close()
    memory.start()
    start = threading.Barrier(visitors)
    results: list[Played] = [None] * visitors
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(
        i, visit(base_url, i, plan, start, f"{prefix}{i:03d}", think, arrive_over))) for i in range(visitors)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    if kill:
        kill.start()
    for thread in threads:
        thread.join()
    memory.running = False
    memory.join()
    return results, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=30)
    parser.add_argument("--queries", type=int, default=5, help="explorer queries per visitor")
    parser.add_argument("--url", help="a running server (say scripts/serve.sh's proxy); default: start one")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "run",
                        help="scripts/serve.sh's run/ folder: its processes (for RSS) and database_url")
    parser.add_argument("--database-url", help="the server's leaderboard (default: run/database_url with --url)")
    parser.add_argument("--kill-worker-after", type=float, metavar="S", help="kill -9 worker w1 S seconds in")
    parser.add_argument("--think", type=float, default=0.0, metavar="S",
                        help="mean seconds each visitor reads before its next click (default 0: at once)")
    parser.add_argument("--arrive-over", type=float, default=0.0, metavar="S",
                        help="visitors start at random moments over S seconds, as a room scanning a QR code "
                             "does (default 0: all in the same instant)")
    parser.add_argument("--scenario", choices=["visitors", "room"], default="visitors",
                        help="room: a presenter and --visitors phones vote in one round (bench/room_load.py)")
    add_write_docs_flag(parser, "bench/load.py")
    args = parser.parse_args()
    if args.scenario == "room":
        from bench import room_load

        server_database = args.database_url or (args.url and (args.run_dir / "database_url").read_text().strip())
        return room_load.main(["--phones", str(args.visitors), "--run-dir", str(args.run_dir)]
                              + (["--url", args.url, "--database-url", server_database] if args.url else [])
                              + (["--write-docs"] if args.write_docs else []))
    if args.kill_worker_after is not None and not args.url:
        parser.error("--kill-worker-after needs --url (a scripts/serve.sh room)")

    plan = scenarios(args.queries)
    prefix = "load-" + "".join(random.choices(string.ascii_lowercase, k=3)) + "-"  # this run's games
    kill = WorkerKill(args.run_dir, args.kill_worker_after) if args.kill_worker_after is not None else None
    if args.url:
        database_url = args.database_url or (args.run_dir / "database_url").read_text().strip()
        memory = ServerMeter(served_by(args.run_dir))
        results, wall = run_room(args.url.rstrip("/"), args.visitors, plan, memory, kill, prefix, args.think,
                                 args.arrive_over)
    else:
        with AppServer() as server:
            database_url = server.database_url
            memory = ServerMeter(lambda: [server.process.pid])
            results, wall = run_room(server.url, args.visitors, plan, memory, None, prefix, args.think,
                                     args.arrive_over)
    peak = memory.peak
    playing = any(name == "quiz" for name, _ in plan)
    problems, games, answers = (check_leaderboard(database_url, results, prefix) if playing
                                else (["quiz page missing: not played"], 0, 0))
    server = f"`serve.sh --workers {len(list(args.run_dir.glob('worker-*.pid')))}`" if args.url else "one process (`AppServer`)"
    table = docs_table(results, memory, games, answers, server, args.think, args.arrive_over)
    print(table + "\n")  # the run as a row of docs/serving.md's table, then the report (its summary last)
    if args.write_docs and kill:
        print("not written into the docs: their table has no runs with a worker killed\n")
    elif args.write_docs:  # replaces the row of the same server, visitors, think and arrivals; the others stay
        write_docs("bench/load.py", table, merge=True)
    print(report(results, wall, memory, problems))
    if kill:
        print("\n".join(kill_report(results, kill)))
    print(summary(results, peak, games, answers))
    errors = sum(len(p.errors) for p in results)
    return 1 if errors or (playing and problems) else 0


if __name__ == "__main__":
    sys.exit(main())
