"""Load test of talk mode: a stage and N phones in one talk, a word-guess beat then a choice poll, everyone
answering at once.

    python bench/talk_load.py --phones 100                  # its own one-process server
    python bench/talk_load.py --url http://127.0.0.1:8501 --database-url postgresql+psycopg://…  # serve.sh

Phones and the stage are websocket clients speaking the browser's protocol (bench/visitor.py), as in
bench/room_load.py, whose waiting it shares:

1. a room is made in the server's database with the default talk (talks/rnns-for-nlp.toml) and the
   phones join it; every phone opens ``play?room=CODE&player=TOKEN``, the stage ``stage?room=CODE``;
2. the speaker moves the talk to its first word guess (straight in the database, as the speaker view's
   → does); each phone's watcher waits on the room feed and redraws: the word field appears;
3. all phones answer at once (a barrier); the stage's one-second fragment runs until it reads
   "N of N answered";
4. the same for the first choice poll (a tap on a tile).

Targets (issue 25): every answer counted, the stage shows them all within 1 s of the last (p95 over the
beats), phones see a new beat within 1 s (p95). The last line is the summary.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.game import quiz  # noqa: E402
from app.game.talk import CHOICE, WORD_GUESS, load_talk  # noqa: E402
from app.game.talk_room import TalkStore  # noqa: E402
from bench.room_load import Phone, answer_together, open_phones, wait_for  # noqa: E402
from bench.visitor import Visitor  # noqa: E402
from tests.e2e.harness import AppServer  # noqa: E402


def stage_text(visitor: Visitor) -> str:
    """What the stage shows: its markdown and its HTML (the counts are HTML)."""
    parts = []
    for element in visitor.last.elements:
        kind = element.WhichOneof("type")
        if kind == "markdown":
            parts.append(element.markdown.body)
        elif kind == "html":
            parts.append(element.html.body)
    return "\n".join(parts)


def measure_beat(talks: TalkStore, talk, code: str, secret: str, crowd: list[Phone], stage: Visitor,
                 kind: str) -> dict:
    """The speaker moves to the first beat of this kind, every phone answers it at once; what it took."""
    phones = len(crowd)
    beat = next(b for b in talk.beats if b.kind == kind)
    field, button = (f"talk_word_{beat.number}", "talk_send") if kind == WORD_GUESS else ("talk_tile_0", "talk_tile_0")
    for phone in crowd:
        phone.sent_at = phone.answered_at = 0.0
    everyone_ready = threading.Barrier(phones + 1)
    clock = {"started": time.monotonic()}

    def answer(phone: Phone) -> None:
        answer_together(phone, lambda v: v.last.widget_id(field) is not None, everyone_ready,
                        lambda: clock["started"],
                        lambda v: v.type(field, "talking", then_click=button) if kind == WORD_GUESS else v.click(button),
                        "Your answer")

    threads = [threading.Thread(target=answer, args=(phone,)) for phone in crowd]
    for thread in threads:
        thread.start()
    clock["started"] = time.monotonic()
    talks.go_to(code, secret, talk, beat.number)  # the speaker's →
    everyone_ready.wait()
    for thread in threads:
        thread.join()
    last = max((p.answered_at for p in crowd if p.answered_at), default=time.monotonic())
    try:
        shown = wait_for(stage, lambda v: beat.title in stage_text(v) and f"{phones} of {phones} answered" in stage_text(v), 60)
    except TimeoutError:
        shown = float("nan")
    sent = [p.sent_at for p in crowd if p.sent_at]
    return {
        "kind": kind,
        "answers_in_db": talks.answered(code, beat.number)[0],
        "seen_p95_s": statistics.quantiles([p.seen_round_after for p in crowd], n=20)[-1] if phones > 1 else 0,
        "answer_window_s": last - min(sent) if sent else float("nan"),
        "stage_after_s": max(0.0, shown - last),
    }


def run(base_url: str, database_url: str, phones: int) -> dict:
    talks, talk = TalkStore(database_url), load_talk()
    code, secret = talks.create_room("wiki-sample", "single", "mixed",
                                     [("normal", [quiz.Sentence("a sentence for the load test", True)])], countdown=60)
    talks.start_talk(code, secret, "rnns-for-nlp.toml")
    crowd = [Phone(talks.join(code, f"phone {n}")) for n in range(phones)]
    open_phones(base_url, code, crowd)
    stage = Visitor(base_url, timeout=30)
    stage.open("stage", query=f"room={code}")

    results = [measure_beat(talks, talk, code, secret, crowd, stage, kind) for kind in (WORD_GUESS, CHOICE)]
    for phone in crowd:
        if phone.visitor:
            phone.visitor.close()
    stage.close()
    return {"phones": phones, "beats": results, "errors": [p.error for p in crowd if p.error]}


def report(result: dict) -> str:
    n = result["phones"]
    lines = ["| beat | phones see it (p95) | answers sent → all answered | answers in the database "
             "| stage shows all after the last |", "|---|---|---|---|---|"]
    lines += [f"| {b['kind']} | {b['seen_p95_s']:.2f} s | {b['answer_window_s']:.2f} s | {b['answers_in_db']} of {n} "
              f"| {b['stage_after_s']:.2f} s |" for b in result["beats"]]
    if result["errors"]:
        lines.append("first errors: " + "; ".join(result["errors"][:3]))
    worst_stage = max(b["stage_after_s"] for b in result["beats"])
    lines.append(f"phones={n} errors={len(result['errors'])} "
                 f"answers_in_db={'/'.join(str(b['answers_in_db']) for b in result['beats'])} "
                 f"stage_after_s_max={worst_stage:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--url", help="a running server (say scripts/serve.sh's proxy); default: start one")
    parser.add_argument("--database-url", help="that server's database (ATELIER_DATABASE_URL); needed with --url")
    args = parser.parse_args(argv)
    if args.url:
        if not args.database_url:
            parser.error("--url needs --database-url: the bench makes the talk in the server's database")
        result = run(args.url.rstrip("/"), args.database_url, args.phones)
    else:
        with AppServer() as server:
            result = run(server.url, server.database_url, args.phones)
    print(report(result))
    counted = all(b["answers_in_db"] == args.phones for b in result["beats"])
    return 0 if counted and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
