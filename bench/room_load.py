"""Load test of room mode: a presenter and 100 phones in one room, one round, everyone votes at once.

    python bench/room_load.py --phones 100                  # its own one-process server
    python bench/room_load.py --url http://127.0.0.1:8501 --database-url postgresql+psycopg://…  # serve.sh
    python bench/load.py --scenario room --visitors 100     # the same, from the load bench
    python bench/room_load.py --phones 30 --write-docs      # and its row into docs/serving.md

Phones and presenter are websocket clients speaking the browser's protocol (bench/visitor.py),
each with its own session, as a phone's tab is:

1. a room is made in the server's database with one round of made-up sentences (this bench measures
   votes, not the deck) and the phones join it (each keeps its token, as a phone does in its address);
2. every phone opens ``play?room=CODE&player=TOKEN``, the presenter ``present?room=CODE&key=SECRET``;
3. the presenter starts the round; each phone's watcher waits on the room feed (``/_room/CODE``), as
   its browser does, and reruns the phone's room fragment when the room moves on: the vote buttons appear;
4. all phones vote at once (a barrier), each a click on its ballot; the presenter's polling fragment
   runs until its tally reads "100 of 100 voted".

Targets (issue 13): every phone shows the new round within 1 s (p95), the 100 votes go through within
2 s (first click sent → last vote answered), the database holds exactly 100, and the presenter's tally
shows 100 within 2 s of the last vote.
First the run as a row of docs/serving.md's room load table, then the report; the last line is the
summary: ``phones=100 errors=0 vote_window_s=… tally_after_s=… votes_in_db=100``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.game import quiz  # noqa: E402
from app.game.room import RoomStore  # noqa: E402
from bench.doc_tables import add_write_docs_flag, write_docs  # noqa: E402
from bench.visitor import Visitor  # noqa: E402
from tests.e2e.harness import AppServer  # noqa: E402

TALLY = re.compile(r"(\d+) of (\d+) voted")
POLL_SECONDS = 0.05  # how often a waiting client checks whether its timers are due


@dataclass
class Phone:
    token: str
    visitor: Visitor | None = None
    sent_at: float = 0.0
    answered_at: float = 0.0
    seen_round_after: float = 0.0  # start → the phone showed the ballot
    reruns: list[float] = field(default_factory=list)  # the runs its watcher asked for
    error: str = ""


def page_text(visitor: Visitor) -> str:
    return "\n".join(e.markdown.body for e in visitor.last.elements if e.WhichOneof("type") == "markdown")


def wait_for(visitor: Visitor, seen, timeout: float, reruns: list[float] | None = None) -> float:
    """Let the tab's timers rerun its fragments until seen(visitor) holds; returns when it did."""
    deadline = time.monotonic() + timeout
    while not seen(visitor):
        if time.monotonic() > deadline:
            raise TimeoutError("the page never showed what was expected")
        runs = visitor.due_auto_reruns()
        if (run := visitor.follow_room()) is not None:  # a phone: waits until the room moves on
            runs.append(run)
        if reruns is not None:
            reruns += [run.seconds for run in runs]
        if not runs:
            time.sleep(POLL_SECONDS)
    return time.monotonic()


def has_ballot(visitor: Visitor) -> bool:
    return visitor.last.widget_id("room_human") is not None


def open_phones(base_url: str, code: str, crowd: list[Phone]) -> None:
    """Every phone opens the room's page at once, each from a thread of its own (as a hall's phones do);
    a phone that cannot connect keeps the reason in ``phone.error``."""

    def connect(phone: Phone) -> None:
        try:
            phone.visitor = Visitor(base_url, timeout=30)
            phone.visitor.open("play", query=f"room={code}&player={phone.token}")
        except Exception as error:  # noqa: BLE001 - counted and reported
            phone.error = f"open: {error}"

    threads = [threading.Thread(target=connect, args=(phone,)) for phone in crowd]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def answer_together(phone: Phone, shown, everyone_ready: threading.Barrier, started: Callable[[], float],
                    send: Callable[[Visitor], Visitor], confirmed: str) -> None:
    """One phone's turn in a load round: wait until ``shown(visitor)`` (its delay after ``started()``, the
    speaker's click), wait for the whole crowd at ``everyone_ready``, then ``send`` its answer, timed, and
    check that the page it draws says ``confirmed``. What goes wrong is kept in ``phone.error``."""
    try:
        if phone.error:
            raise RuntimeError(phone.error)
        phone.seen_round_after = wait_for(phone.visitor, shown, 60, phone.reruns) - started()
    except Exception as error:  # noqa: BLE001 - counted and reported
        phone.error = phone.error or f"waiting: {error}"
    everyone_ready.wait()
    if phone.error:
        return
    try:
        phone.sent_at = time.monotonic()
        drawn = send(phone.visitor)
        phone.answered_at = time.monotonic()
        if not any(confirmed in alert for alert in drawn.alerts()):
            phone.error = f"answer not confirmed: {drawn.alerts()}"
    except Exception as error:  # noqa: BLE001 - counted and reported
        phone.error = f"answer: {error}"


def run(base_url: str, database_url: str, phones: int) -> dict:
    rooms = RoomStore(database_url)
    made_up = [("normal", [quiz.Sentence("a sentence for the load test, written by the bench", True)])]
    code, secret = rooms.create_room("wiki-sample", "single", "normal", made_up, countdown=60)
    crowd = [Phone(rooms.join(code, f"phone {n}")) for n in range(phones)]
    open_phones(base_url, code, crowd)
    presenter = Visitor(base_url, timeout=30)
    presenter.open("present", query=f"room={code}&key={secret}")

    everyone_ready = threading.Barrier(phones + 1)
    started = time.monotonic()

    def play(phone: Phone) -> None:
        answer_together(phone, has_ballot, everyone_ready, lambda: started,
                        lambda visitor: visitor.click("room_human"), "Your vote")

    def tally_full(visitor: Visitor) -> bool:
        found = TALLY.search(page_text(visitor))
        return bool(found) and int(found.group(1)) >= phones

    tally_seen: list[float] = []

    def watch_tally() -> None:
        """The presenter's screen polls all along (a tab that stops answering is dropped by the server)."""
        try:
            tally_seen.append(wait_for(presenter, tally_full, 600))
        except Exception:  # noqa: BLE001 - reported as a missing tally
            pass

    threads = [threading.Thread(target=play, args=(phone,)) for phone in crowd]
    for thread in threads:
        thread.start()
    started = time.monotonic()  # the phones measure from the speaker's click
    presenter.click("room_start")
    watcher = threading.Thread(target=watch_tally)
    watcher.start()
    everyone_ready.wait()
    for thread in threads:
        thread.join()
    last_vote = max((p.answered_at for p in crowd if p.answered_at), default=time.monotonic())
    watcher.join(timeout=60)
    tally_at = tally_seen[0] if tally_seen else float("nan")
    voted, _ = rooms.tally(code, 1)
    for phone in crowd:
        if phone.visitor:
            phone.visitor.close()
    presenter.close()
    sent = [p.sent_at for p in crowd if p.sent_at]
    votes = [p.answered_at - p.sent_at for p in crowd if p.answered_at]
    reruns = [s for p in crowd for s in p.reruns]
    return {
        "phones": phones,
        "errors": [p.error for p in crowd if p.error],
        "vote_window_s": last_vote - min(sent) if sent else float("nan"),
        "vote_p50_ms": 1000 * statistics.median(votes) if votes else float("nan"),
        "vote_p95_ms": 1000 * statistics.quantiles(votes, n=20)[-1] if len(votes) > 1 else float("nan"),
        "round_seen_p95_s": statistics.quantiles([p.seen_round_after for p in crowd], n=20)[-1] if phones > 1 else 0,
        "rerun_p50_ms": 1000 * statistics.median(reruns) if reruns else float("nan"),
        "tally_after_s": max(0.0, tally_at - last_vote),
        "votes_in_db": voted,
    }


def report(result: dict) -> str:
    n = result["phones"]
    lines = [
        "| metric | value | target |",
        "|---|---|---|",
        f"| {n} votes: first click sent → last vote answered | {result['vote_window_s']:.2f} s | ≤ 2 s |",
        f"| one vote: click → ballot redrawn (p50 / p95) | {result['vote_p50_ms']:.0f} / {result['vote_p95_ms']:.0f} ms | |",
        f"| votes in the database | {result['votes_in_db']} | {n} |",
        f"| presenter's tally shows {n} after the last vote | {result['tally_after_s']:.2f} s | ≤ 2 s |",
        f"| round started → phone shows the ballot (p95) | {result['round_seen_p95_s']:.2f} s | ≤ 1 s |",
        f"| phone's room fragment rerun on the change (p50) | {result['rerun_p50_ms']:.0f} ms | |",
        f"| errors | {len(result['errors'])} | 0 |",
    ]
    if result["errors"]:
        lines.append("first errors: " + "; ".join(result["errors"][:3]))
    lines.append(f"phones={n} errors={len(result['errors'])} round_seen_p95_s={result['round_seen_p95_s']:.2f} "
                 f"vote_window_s={result['vote_window_s']:.2f} "
                 f"tally_after_s={result['tally_after_s']:.2f} votes_in_db={result['votes_in_db']}")
    return "\n".join(lines)


def docs_table(result: dict, server: str) -> str:
    """The run as one row of docs/serving.md's room load table (one row per server and phone count)."""
    return "\n".join([
        "| server | phones | round started → phone shows the ballot (p95) | 100 votes sent → all answered "
        "| votes in the database | tally after the last vote |",
        "|---|---|---|---|---|---|",
        f"| {server} | {result['phones']} | {result['round_seen_p95_s']:.2f} s | {result['vote_window_s']:.2f} s "
        f"| {result['votes_in_db']} | {result['tally_after_s']:.2f} s |"])


def served_by_label(url: str | None, run_dir: Path, database_url: str) -> str:
    """How docs/serving.md names the server: AppServer's one process, or scripts/serve.sh's workers."""
    database = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    if not url:
        return f"one process (`AppServer`, {database})"
    return f"`scripts/serve.sh --workers {len(list(run_dir.glob('worker-*.pid')))}` ({database})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--url", help="a running server (say scripts/serve.sh's proxy); default: start one")
    parser.add_argument("--database-url", help="that server's database (ATELIER_DATABASE_URL); needed with --url")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "run",
                        help="with --url: scripts/serve.sh's run/ folder (its workers name the server in the docs)")
    add_write_docs_flag(parser, "bench/room_load.py")
    args = parser.parse_args(argv)
    if args.url:
        if not args.database_url:
            parser.error("--url needs --database-url: the bench makes the room in the server's database")
        database_url = args.database_url
        result = run(args.url.rstrip("/"), database_url, args.phones)
    else:
        with AppServer() as server:
            database_url = server.database_url
            result = run(server.url, database_url, args.phones)
    table = docs_table(result, served_by_label(args.url, args.run_dir, database_url))
    print(table + "\n")  # the run as a row of docs/serving.md's table, then the report (its summary last)
    print(report(result))
    if args.write_docs:  # replaces the row of the same server and phone count; the others stay
        write_docs("bench/room_load.py", table, merge=True)
    ok = not result["errors"] and result["votes_in_db"] == args.phones
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
