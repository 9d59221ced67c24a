"""Load test: a roomful of visitors at once, each querying the explorer and playing a whole quiz game.

    python bench/load.py                 # 30 visitors
    python bench/load.py --visitors 5 --queries 2   # a smoke run

Each visitor is a Streamlit websocket client speaking the browser's protocol (protobuf BackMsg /
ForwardMsg on /_stcore/stream): it opens a page, sets widgets by their keys and waits for the script
run to finish, exactly what a browser tab makes the server do, without drawing anything. Thirty
Chromium tabs would need more CPU than the 2-core machine has; the server-side work is the same.

Reports p50/p95 interaction latency (send → script run finished), errors (exception boxes, wrong
pages, missing results, timeouts: must be 0) and the server's peak RSS. Then it opens the temporary
leaderboard database (ATELIER_DATABASE_URL) and checks that it holds exactly the games and answers
the visitors played: one game per visitor, ten answers each, with their guesses in order.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.Element_pb2 import Element  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from tests.e2e.harness import AppServer, page_registered  # noqa: E402

EXPLORER, QUIZ = "explorer", "fake-or-real"
KNOWN_WORDS = ["dress", "silk", "petite", "jeans", "sweater", "blue", "linen", "summer"]
ODD_QUERIES = ["dresss", "<b>x</b>", "👗", ""]  # a typo, HTML, an emoji, nothing: each gets a message
ROUNDS = 10


class VisitError(Exception):
    """Something a visitor saw that a visitor should never see."""


# ---------------------------------------------------------------- one visitor's connection


@dataclass
class ScriptRun:
    """What one script run sent to the browser: its elements in page order, and how long it took."""

    seconds: float
    elements: list[Element]

    def of_kind(self, kind: str) -> list:
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]

    def alerts(self) -> list[str]:
        return [alert.body for alert in self.of_kind("alert")]

    def widget_id(self, key: str) -> str | None:
        """Streamlit ids of keyed widgets end with the key."""
        for element in self.elements:
            widget = getattr(element, element.WhichOneof("type") or "", None)
            widget_id = getattr(widget, "id", "")
            if isinstance(widget_id, str) and widget_id.endswith(f"-{key}"):
                return widget_id
        return None

    def table_rows(self) -> list[int]:
        """Row counts of the st.dataframe tables (Arrow IPC streams)."""
        import pyarrow as pa

        return [pa.ipc.open_stream(frame.arrow_data.data).read_all().num_rows for frame in self.of_kind("dataframe")
                if frame.arrow_data.data]


class Visitor:
    """One browser tab: a websocket session that reruns the script with the widget values it sets."""

    def __init__(self, base_url: str, timeout: float = 300):
        import websocket

        self.socket = websocket.create_connection(base_url.replace("http", "ws", 1) + "/_stcore/stream",
                                                  subprotocols=["streamlit"], timeout=timeout)
        self.page_script_hash = ""
        self.values: dict[str, WidgetState] = {}  # what the tab's widgets hold, sent with every run
        self.last: ScriptRun | None = None

    def open(self, url_path: str) -> ScriptRun:
        self.page_script_hash, self.values = "", {}
        return self.rerun(page_name=url_path)

    def type(self, key: str, text: str, then_click: str | None = None) -> ScriptRun:
        state = WidgetState(id=self.require_widget(key), string_value=text)
        self.values[state.id] = state
        return self.rerun(triggers=[then_click] if then_click else [])

    def click(self, key: str) -> ScriptRun:
        return self.rerun(triggers=[key])

    def require_widget(self, key: str) -> str:
        widget_id = self.last.widget_id(key) if self.last else None
        if widget_id is None:
            raise VisitError(f"no widget {key!r} on the page")
        return widget_id

    def rerun(self, page_name: str = "", triggers: list[str] = ()) -> ScriptRun:
        message = BackMsg()
        client = message.rerun_script
        client.page_script_hash, client.page_name = self.page_script_hash, page_name
        client.widget_states.widgets.extend(self.values.values())
        for key in triggers:
            client.widget_states.widgets.append(WidgetState(id=self.require_widget(key), trigger_value=True))
        started = time.perf_counter()
        self.socket.send_binary(message.SerializeToString())
        elements = self.receive_run()
        self.last = ScriptRun(time.perf_counter() - started, [elements[path] for path in sorted(elements)])
        if exceptions := self.last.of_kind("exception"):
            raise VisitError(f"exception box: {exceptions[0].type}: {exceptions[0].message}")
        return self.last

    def receive_run(self) -> dict[tuple, Element]:
        """Forward messages until the script run finishes; elements keyed by their place on the page."""
        elements: dict[tuple, Element] = {}
        while True:
            message = ForwardMsg()
            message.ParseFromString(self.socket.recv())
            kind = message.WhichOneof("type")
            if kind == "navigation":
                self.page_script_hash = message.navigation.page_script_hash
            elif kind == "page_not_found":
                raise VisitError(f"page not found: {message.page_not_found.page_name!r}")
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                elements[tuple(message.metadata.delta_path)] = message.delta.new_element
            elif kind == "script_finished":
                status = message.script_finished
                if status == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return elements
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise VisitError("script compile error")
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    elements = {}  # st.rerun or a newer request: the next run redraws the page

    def close(self) -> None:
        self.socket.close()


# ---------------------------------------------------------------- what a visitor does


@dataclass
class Played:
    """One visitor's record: latencies by interaction, errors, and the quiz game it should have stored."""

    nickname: str
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    guesses: list[str] = field(default_factory=list)  # human / lstm, in round order
    points: list[int] = field(default_factory=list)
    saved: bool = False

    def time(self, kind: str, run: ScriptRun) -> ScriptRun:
        self.latencies.setdefault(kind, []).append(run.seconds)
        return run


def query_explorer(visitor: Visitor, played: Played, words: list[str]) -> None:
    played.time("open explorer", visitor.open(EXPLORER))
    for word in words:
        run = played.time("explorer query", visitor.type("explorer_word", word))
        if word in KNOWN_WORDS and not any(rows >= 5 for rows in run.table_rows()):
            raise VisitError(f"no neighbours listed for {word!r}")
        if word in ODD_QUERIES[:3] and not run.alerts():
            raise VisitError(f"no message for the query {word!r}")


def play_quiz(visitor: Visitor, played: Played, rng: random.Random) -> None:
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
    if not played.saved:
        raise VisitError(f"score not saved: {run.alerts()}")


def visit(base_url: str, number: int, queries: int, start: threading.Barrier, play: bool) -> Played:
    played = Played(nickname=f"load-{number:02d}")
    rng = random.Random(number)
    try:
        visitor = Visitor(base_url)
    except Exception as error:
        played.errors.append(f"connect: {error}")
        return played
    start.wait()
    try:
        if page_registered("pages/embeddings.py"):
            query_explorer(visitor, played, rng.sample(KNOWN_WORDS + ODD_QUERIES, queries))
        if play:
            play_quiz(visitor, played, rng)
    except Exception as error:  # one visitor's failure is counted, the others go on
        played.errors.append(f"{type(error).__name__}: {error}"[:300])
    finally:
        visitor.close()
    return played


# ---------------------------------------------------------------- the room, and the checks afterwards


def check_leaderboard(database_url: str, visitors: list[Played]) -> list[str]:
    """Differences between the database and what the visitors played (empty: exactly as expected)."""
    from sqlalchemy import create_engine, select

    from app import leaderboard

    engine = create_engine(database_url)
    problems = []
    with engine.connect() as connection:
        games = connection.execute(select(leaderboard.games)).all()
        answers = connection.execute(select(leaderboard.answers).order_by(leaderboard.answers.c.game_id,
                                                                          leaderboard.answers.c.round)).all()
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
    engine.dispose()
    return problems


class PeakMemory(threading.Thread):
    """Samples the server's RSS twice a second while the room plays."""

    def __init__(self, server: AppServer):
        super().__init__(daemon=True)
        self.server, self.peak, self.running = server, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.server.rss_bytes())
            time.sleep(0.5)


def percentile_ms(seconds: list[float], q: float) -> float:
    return 1000 * float(np.percentile(seconds, q)) if seconds else float("nan")


def report(visitors: list[Played], wall: float, peak_rss: int, db_problems: list[str]) -> str:
    kinds = sorted({kind for p in visitors for kind in p.latencies})
    every = [s for p in visitors for seconds in p.latencies.values() for s in seconds]
    lines = ["| interaction | count | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    for kind in [*kinds, "all"]:
        seconds = every if kind == "all" else [s for p in visitors for s in p.latencies.get(kind, [])]
        lines.append(f"| {kind} | {len(seconds)} | {percentile_ms(seconds, 50):.0f} | {percentile_ms(seconds, 95):.0f} "
                     f"| {1000 * max(seconds, default=0):.0f} |")
    errors = [f"{p.nickname}: {e}" for p in visitors for e in p.errors]
    lines += ["", f"visitors: {len(visitors)}, wall time {wall:.0f} s, interactions {len(every)}, "
              f"median per visitor {statistics.median(len(sum(p.latencies.values(), [])) for p in visitors)}",
              f"errors: {len(errors)}", *[f"  - {e}" for e in errors[:20]],
              f"server peak RSS: {peak_rss / 2**20:.0f} MB",
              f"leaderboard check: {'exactly the expected games and answers' if not db_problems else 'FAILED'}",
              *[f"  - {p}" for p in db_problems[:20]]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=30)
    parser.add_argument("--queries", type=int, default=5, help="explorer queries per visitor")
    args = parser.parse_args()

    play = page_registered("pages/fake_or_real.py")
    with AppServer() as server:
        warm = Visitor(server.url)  # the first run of a fresh server loads models; the room arrives after
        warm.open("")
        warm.close()
        memory = PeakMemory(server)
        memory.start()
        start = threading.Barrier(args.visitors)
        results: list[Played] = [None] * args.visitors
        threads = [threading.Thread(target=lambda i=i: results.__setitem__(
            i, visit(server.url, i, args.queries, start, play))) for i in range(args.visitors)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        memory.running = False
        memory.join()
        problems = check_leaderboard(server.database_url, results) if play else ["quiz page missing: not played"]
    print(report(results, wall, memory.peak, problems))
    errors = sum(len(p.errors) for p in results)
    return 1 if errors or (play and problems) else 0


if __name__ == "__main__":
    sys.exit(main())
