"""Load test of room mode and talk mode: 100 phones in one room, everyone answering at once.

    python bench/room_load.py --phones 100                  # room: one round, its own one-process server
    python bench/room_load.py --scenario talk --phones 100  # talk: its word-guess and poll beats
    python bench/room_load.py --url http://127.0.0.1:8501 --database-url postgresql+psycopg://…  # serve.sh
    python bench/load.py --scenario room --visitors 100     # the room scenario, from the load bench
    python bench/room_load.py --phones 30 --write-docs      # and its row into docs/serving.md

Phones, presenter and stage are websocket clients speaking the browser's protocol (bench/visitor.py),
each with its own session, as a phone's tab is. A room is made in the server's database and the phones
join it (each keeps its token, as a phone does in its address); every phone opens
``play?room=CODE&player=TOKEN``, and its watcher waits on the room feed (``/_room/CODE``), as its browser
does, and reruns the phone's room fragment when the room moves on.

**room** (issue 13): one round of made-up sentences (this bench measures votes, not the deck). The
presenter (``present?room=CODE&key=SECRET``) starts the round, the phones' vote buttons appear, all vote
at once (a barrier), each a click on its ballot; the presenter's polling fragment runs until its tally
reads "100 of 100 voted". Targets: every phone shows the new round within 1 s (p95), the 100 votes go
through within 2 s (first click sent → last vote answered), the database holds exactly 100, and the
tally shows 100 within 2 s of the last vote.

**talk** (issue 25): the default talk (talks/rnns-for-nlp.toml) with the stage open
(``stage?room=CODE``). For each of its word guesses and its poll, in order, the speaker moves the talk
there (straight in the database, as the speaker view's → does); the phones' word field or tiles appear,
all answer at once (a word, or a tile); the stage's polling fragment runs all along until it reads
"100 of 100 answered". Targets: every answer counted, the stage shows them all within 1 s of the last
(p95 over the beats), phones see a new beat within 1 s (p95 over phones and beats).

First the run as a row of its docs/serving.md table, then the report, which says where a phone's wait
went (the feed's answer, the fragment's rerun, the server's CPU per redraw); the last line is the summary.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.game import quiz  # noqa: E402
from app.game.room import RoomStore  # noqa: E402
from app.game.talk import CHOICE, WORD_GUESS, Beat, load_talk  # noqa: E402
from app.game.talk_room import TalkStore  # noqa: E402
from bench.doc_tables import add_write_docs_flag, write_docs  # noqa: E402
from bench.visitor import Visitor  # noqa: E402
from tests.e2e.harness import AppServer  # noqa: E402

TALLY = re.compile(r"(\d+) of (\d+) voted")
POLL_SECONDS = 0.05  # how often a waiting client checks whether its timers are due
TALK_KINDS = (WORD_GUESS, CHOICE)  # the talk's beats the talk scenario plays
WORDS = ("dress", "talk", "city", "music", "red")  # the phones' word guesses, known to every model


@dataclass
class Phone:
    token: str
    visitor: Visitor | None = None
    sent_at: float = 0.0
    answered_at: float = 0.0
    seen_round_after: float = 0.0  # the speaker's click → the phone showed the question
    feed_after: float = 0.0  # the speaker's click → the room feed told the phone (before its rerun)
    reruns: list[float] = field(default_factory=list)  # the runs its watcher asked for
    error: str = ""


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def page_text(visitor: Visitor) -> str:
    """What the page shows in markdown and HTML (the stage's counts are HTML)."""
    parts = []
    for element in visitor.last.elements:
        kind = element.WhichOneof("type")
        if kind == "markdown":
            parts.append(element.markdown.body)
        elif kind == "html":
            parts.append(element.html.body)
    return "\n".join(parts)


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


def watch(visitor: Visitor, seen) -> tuple[threading.Thread, list[float]]:
    """A presenter's or stage's screen polling all along (a tab that stops answering is dropped by the
    server) until seen(visitor): the thread, and the list that gets the moment it was seen."""
    seen_at: list[float] = []

    def poll() -> None:
        try:
            seen_at.append(wait_for(visitor, seen, 120))
        except Exception:  # noqa: BLE001 - reported as never seen
            pass

    thread = threading.Thread(target=poll)
    thread.start()
    return thread, seen_at


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
    phone.sent_at = phone.answered_at = 0.0
    try:
        if phone.error:
            raise RuntimeError(phone.error)
        phone.seen_round_after = wait_for(phone.visitor, shown, 60, phone.reruns) - started()
        phone.feed_after = phone.visitor.room_moved_at - started()
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


class CpuClock:
    """CPU-seconds spent by the server's processes and by this bench (its phones run on the same cores)."""

    def __init__(self, server_pids: list[int]):
        self.server = [psutil.Process(pid) for pid in server_pids]
        self.bench = psutil.Process()

    def read(self) -> tuple[float, float]:
        server = sum(sum(p.cpu_times()[:2]) for p in self.server if p.is_running())
        return server, sum(self.bench.cpu_times()[:2])


def everyone_answers(crowd: list[Phone], shown, send: Callable[[Phone], Callable[[Visitor], Visitor]],
                     confirmed: str, move_on: Callable[[], None], cpu: CpuClock) -> dict:
    """One question for the whole crowd: each phone waits for it (``shown``); ``move_on`` is the speaker's
    click; then all answer at once. Timings, and the CPU the server and the bench spent until every phone
    showed the question (the redraws), per phone."""
    everyone_ready = threading.Barrier(len(crowd) + 1)
    clock = {"started": time.monotonic()}
    threads = [threading.Thread(target=answer_together, args=(phone, shown, everyone_ready, lambda: clock["started"],
                                                               send(phone), confirmed)) for phone in crowd]
    for thread in threads:
        thread.start()
    cpu_before = cpu.read()
    clock["started"] = time.monotonic()  # the phones measure from the speaker's click
    move_on()
    everyone_ready.wait()
    cpu_after = cpu.read()
    for thread in threads:
        thread.join()
    reached = [p for p in crowd if p.seen_round_after]
    sent = [p.sent_at for p in crowd if p.sent_at]
    answers = [p.answered_at - p.sent_at for p in crowd if p.answered_at]
    return {
        "seen": [p.seen_round_after for p in reached],
        "feed": [p.feed_after for p in reached],
        "reruns": [s for p in crowd for s in p.reruns],
        "server_cpu_per_phone_ms": 1000 * (cpu_after[0] - cpu_before[0]) / max(1, len(reached)),
        "bench_cpu_per_phone_ms": 1000 * (cpu_after[1] - cpu_before[1]) / max(1, len(reached)),
        "first_sent": min(sent, default=math.nan),
        "last_answer": max((p.answered_at for p in crowd if p.answered_at), default=time.monotonic()),
        "answers": answers,
    }


def close_all(crowd: list[Phone], *screens: Visitor) -> None:
    for visitor in [p.visitor for p in crowd if p.visitor] + list(screens):
        visitor.close()


# ---------------------------------------------------------------- room mode: one round


def run_room(base_url: str, database_url: str, phones: int, cpu: CpuClock) -> dict:
    rooms = RoomStore(database_url)
    made_up = [("normal", [quiz.Sentence("a sentence for the load test, written by the bench", True)])]
    code, secret = rooms.create_room("wiki-sample", "single", "normal", made_up, countdown=60)
    crowd = [Phone(rooms.join(code, f"phone {n}")) for n in range(phones)]
    open_phones(base_url, code, crowd)
    presenter = Visitor(base_url, timeout=30)
    presenter.open("present", query=f"room={code}&key={secret}")

    def tally_full(visitor: Visitor) -> bool:
        found = TALLY.search(page_text(visitor))
        return bool(found) and int(found.group(1)) >= phones

    watcher: list[tuple[threading.Thread, list[float]]] = []

    def start_round() -> None:
        presenter.click("room_start")
        watcher.append(watch(presenter, tally_full))

    wave = everyone_answers(crowd, has_ballot, lambda phone: lambda visitor: visitor.click("room_human"),
                            "Your vote", start_round, cpu)
    thread, tally_seen = watcher[0]
    thread.join(timeout=60)
    tally_at = tally_seen[0] if tally_seen else math.nan
    voted, _ = rooms.tally(code, 1)
    close_all(crowd, presenter)
    return {
        "phones": phones,
        "errors": [p.error for p in crowd if p.error],
        "vote_window_s": wave["last_answer"] - wave["first_sent"],
        "vote_p50_ms": 1000 * median(wave["answers"]),
        "vote_p95_ms": 1000 * p95(wave["answers"]),
        "round_seen_p95_s": p95(wave["seen"]),
        "feed_p95_s": p95(wave["feed"]),
        "rerun_p50_ms": 1000 * median(wave["reruns"]),
        "server_cpu_per_phone_ms": wave["server_cpu_per_phone_ms"],
        "tally_after_s": max(0.0, tally_at - wave["last_answer"]),
        "votes_in_db": voted,
    }


def room_report(result: dict) -> str:
    n = result["phones"]
    lines = [
        "| metric | value | target |",
        "|---|---|---|",
        f"| {n} votes: first click sent → last vote answered | {result['vote_window_s']:.2f} s | ≤ 2 s |",
        f"| one vote: click → ballot redrawn (p50 / p95) | {result['vote_p50_ms']:.0f} / {result['vote_p95_ms']:.0f} ms | |",
        f"| votes in the database | {result['votes_in_db']} | {n} |",
        f"| presenter's tally shows {n} after the last vote | {result['tally_after_s']:.2f} s | ≤ 2 s |",
        f"| round started → phone shows the ballot (p95) | {result['round_seen_p95_s']:.2f} s | ≤ 1 s |",
        f"| of which: round started → the room feed told the phone (p95) | {result['feed_p95_s']:.2f} s | |",
        f"| phone's room fragment rerun on the change (p50) | {result['rerun_p50_ms']:.0f} ms | |",
        f"| server CPU per phone's redraw | {result['server_cpu_per_phone_ms']:.1f} ms | |",
        f"| errors | {len(result['errors'])} | 0 |",
    ]
    if result["errors"]:
        lines.append("first errors: " + "; ".join(result["errors"][:3]))
    lines.append(f"phones={n} errors={len(result['errors'])} round_seen_p95_s={result['round_seen_p95_s']:.2f} "
                 f"vote_window_s={result['vote_window_s']:.2f} "
                 f"tally_after_s={result['tally_after_s']:.2f} votes_in_db={result['votes_in_db']}")
    return "\n".join(lines)


def docs_table(result: dict, server: str) -> str:
    """The room run as one row of docs/serving.md's room load table (one row per server and phone count)."""
    return "\n".join([
        "| server | phones | round started → phone shows the ballot (p95) | 100 votes sent → all answered "
        "| votes in the database | tally after the last vote |",
        "|---|---|---|---|---|---|",
        f"| {server} | {result['phones']} | {result['round_seen_p95_s']:.2f} s | {result['vote_window_s']:.2f} s "
        f"| {result['votes_in_db']} | {result['tally_after_s']:.2f} s |"])


# ---------------------------------------------------------------- talk mode: word guesses and a poll


def answer_sender(beat: Beat, number: int) -> Callable[[Visitor], Visitor]:
    """What phone ``number`` sends to a beat: a word of WORDS typed and sent, or a tap on a tile (the crowd
    spreads over the words and tiles, so the stage has several bars)."""
    if beat.kind == WORD_GUESS:
        word = WORDS[number % len(WORDS)]
        return lambda visitor: visitor.type(f"talk_word_{beat.number}", word, then_click="talk_send")
    tile = f"talk_tile_{number % len(beat.settings['options'])}"
    return lambda visitor: visitor.click(tile)


def question_field(beat: Beat) -> str:
    return f"talk_word_{beat.number}" if beat.kind == WORD_GUESS else "talk_tile_0"


def measure_beat(talks: TalkStore, talk, code: str, secret: str, crowd: list[Phone], stage: Visitor,
                 beat: Beat, cpu: CpuClock) -> dict:
    """The speaker moves to the beat, every phone answers it at once; what it took."""
    phones = len(crowd)
    field_key = question_field(beat)
    numbers = {id(phone): n for n, phone in enumerate(crowd)}
    watcher: list[tuple[threading.Thread, list[float]]] = []

    def speaker_moves_on() -> None:
        talks.go_to(code, secret, talk, beat.number)  # the speaker's →
        watcher.append(watch(stage, lambda v: beat.title in page_text(v)
                             and f"{phones} of {phones} answered" in page_text(v)))

    wave = everyone_answers(crowd, lambda v: v.last.widget_id(field_key) is not None,
                            lambda phone: answer_sender(beat, numbers[id(phone)]), "Your answer",
                            speaker_moves_on, cpu)
    thread, stage_seen = watcher[0]
    thread.join(timeout=120)
    return {
        "number": beat.number, "kind": beat.kind,
        "answers_in_db": talks.answered(code, beat.number)[0],
        "answer_window_s": wave["last_answer"] - wave["first_sent"],
        "stage_after_s": max(0.0, stage_seen[0] - wave["last_answer"]) if stage_seen else math.nan,
        **{key: wave[key] for key in ("seen", "feed", "reruns", "server_cpu_per_phone_ms", "bench_cpu_per_phone_ms")},
    }


def run_talk(base_url: str, database_url: str, phones: int, cpu: CpuClock) -> dict:
    talks, talk = TalkStore(database_url), load_talk()
    code, secret = talks.create_room("wiki-sample", "single", "mixed",
                                     [("normal", [quiz.Sentence("a sentence for the load test", True)])], countdown=60)
    talks.start_talk(code, secret, "rnns-for-nlp.toml")
    load_before = os.getloadavg()[0]
    crowd = [Phone(talks.join(code, f"phone {n}")) for n in range(phones)]
    open_phones(base_url, code, crowd)
    stage = Visitor(base_url, timeout=30)
    stage.open("stage", query=f"room={code}")
    beats = [measure_beat(talks, talk, code, secret, crowd, stage, beat, cpu)
             for beat in talk.beats if beat.kind in TALK_KINDS]
    close_all(crowd, stage)
    everything = [s for b in beats for s in b["seen"]]
    return {
        "phones": phones, "beats": beats, "errors": [p.error for p in crowd if p.error],
        "seen_p95_s": p95(everything),
        "feed_p95_s": p95([s for b in beats for s in b["feed"]]),
        "rerun_p50_ms": 1000 * median([s for b in beats for s in b["reruns"]]),
        "stage_after_p95_s": p95([b["stage_after_s"] for b in beats])  # NaN when a beat never showed them all
        if all(math.isfinite(b["stage_after_s"]) for b in beats) else math.nan,
        "answer_window_max_s": max(b["answer_window_s"] for b in beats),
        "all_counted": all(b["answers_in_db"] == phones for b in beats),
        "server_cpu_per_phone_ms": median([b["server_cpu_per_phone_ms"] for b in beats]),
        "load": (load_before, os.getloadavg()[0]),  # the machine's, at the start and the end
    }


def talk_report(result: dict) -> str:
    n = result["phones"]
    lines = ["| beat | phones see it (p50 / p95) | the feed told them (p95) | fragment rerun (p50) "
             "| server / bench CPU per phone | answers sent → all answered | answers in the database "
             "| stage shows all after the last |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {b['number']} {b['kind']} | {median(b['seen']):.2f} / {p95(b['seen']):.2f} s | {p95(b['feed']):.2f} s "
              f"| {1000 * median(b['reruns']):.0f} ms | {b['server_cpu_per_phone_ms']:.1f} / "
              f"{b['bench_cpu_per_phone_ms']:.1f} ms | {b['answer_window_s']:.2f} s | {b['answers_in_db']} of {n} "
              f"| {b['stage_after_s']:.2f} s |" for b in result["beats"]]
    if result["errors"]:
        lines.append("first errors: " + "; ".join(result["errors"][:3]))
    lines.append(f"phones={n} errors={len(result['errors'])} seen_p95_s={result['seen_p95_s']:.2f} "
                 f"feed_p95_s={result['feed_p95_s']:.2f} stage_after_p95_s={result['stage_after_p95_s']:.2f} "
                 f"answers_in_db={'/'.join(str(b['answers_in_db']) for b in result['beats'])}")
    return "\n".join(lines)


def talk_docs_table(result: dict, server: str) -> str:
    """The talk run as one row of docs/serving.md's talk load table (one row per server and phone count)."""
    beats = result["beats"]
    kinds = f"{sum(b['kind'] == WORD_GUESS for b in beats)} word guesses, {sum(b['kind'] == CHOICE for b in beats)} poll"
    counted = "all" if result["all_counted"] else "/".join(str(b["answers_in_db"]) for b in beats)
    low, high = sorted(result["load"])
    return "\n".join([
        "| server | phones | beats | new beat → phones show it (p95) | answers sent → all answered (slowest beat) "
        "| answers in the database | stage shows all after the last answer (p95) | server CPU per phone's redraw "
        "| load average |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {server} | {result['phones']} | {kinds} | {result['seen_p95_s']:.2f} s | {result['answer_window_max_s']:.2f} s "
        f"| {counted} | {result['stage_after_p95_s']:.2f} s | {result['server_cpu_per_phone_ms']:.1f} ms "
        f"| {low:.0f}{f'–{high:.0f}' if round(high) > round(low) else ''} |"])


# ---------------------------------------------------------------- the command

# scenario -> (run, report, docs row, docs table, whether every answer was counted)
SCENARIOS = {
    "room": (run_room, room_report, docs_table, "room-load", lambda r: r["votes_in_db"] == r["phones"]),
    "talk": (run_talk, talk_report, talk_docs_table, "talk-load", lambda r: r["all_counted"]),
}


def served_by_label(url: str | None, run_dir: Path, database_url: str) -> str:
    """How docs/serving.md names the server: AppServer's one process, or scripts/serve.sh's workers."""
    database = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    if not url:
        return f"one process (`AppServer`, {database})"
    return f"`scripts/serve.sh --workers {len(list(run_dir.glob('worker-*.pid')))}` ({database})"


def serve_sh_workers(run_dir: Path) -> list[int]:
    return [int(path.read_text().split()[0]) for path in sorted(run_dir.glob("worker-*.pid"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="room",
                        help="room: one Fake-or-real round; talk: the default talk's word guesses and poll")
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--url", help="a running server (say scripts/serve.sh's proxy); default: start one")
    parser.add_argument("--database-url", help="that server's database (ATELIER_DATABASE_URL); needed with --url")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "run",
                        help="with --url: scripts/serve.sh's run/ folder (its workers name the server in the docs)")
    add_write_docs_flag(parser, "bench/room_load.py")
    args = parser.parse_args(argv)
    run, report, docs_row, table_name, counted = SCENARIOS[args.scenario]
    if args.url:
        if not args.database_url:
            parser.error("--url needs --database-url: the bench makes the room in the server's database")
        database_url = args.database_url
        result = run(args.url.rstrip("/"), database_url, args.phones, CpuClock(serve_sh_workers(args.run_dir)))
    else:
        with AppServer() as server:
            database_url = server.database_url
            result = run(server.url, database_url, args.phones, CpuClock([server.process.pid]))
    table = docs_row(result, served_by_label(args.url, args.run_dir, database_url))
    print(table + "\n")  # the run as a row of its docs/serving.md table, then the report (its summary last)
    print(report(result))
    if args.write_docs:  # replaces the row of the same server and phone count; the others stay
        write_docs("bench/room_load.py", table, merge=True, name=table_name)
    return 0 if counted(result) and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
