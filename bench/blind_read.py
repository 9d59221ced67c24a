"""Blind reading: what a careful person tells apart, on an unlabelled sheet dealt as the game deals.

``--make N`` deals N sentences per deck with the game's own code (``quiz.GameSupply.deal_game``,
single mode: half real test-split sentences, half fakes from the stored deck, each from the
process-wide ``decks.Dealer``), shuffles every deck's sentences together and writes two files:

* ``sheet.txt``: for the reader. Instructions, then one line per item: an id and the sentence.
  No label, no deck, no writer; ids are numbered after shuffling, so they tell nothing either.
* ``key.tsv``: for whoever scores. id, class (real or fake), deck (bundle/writer/difficulty), text.

Give a reader only the sheet. Their answers: one line per item, ``<id> <real|fake> [sure]``
(blank lines and lines starting with # are skipped). ``--score ANSWERS --key KEY`` prints the
accuracy per deck and per class, the accuracy of the "sure" calls and the confusion table.

    python bench/blind_read.py --make 40 --deck fashion-reviews/char-lstm/normal \\
        --deck fashion-reviews/char-lstm/hard --deck fashion-reviews/word-lstm/normal:10 --out artifacts/blind-read/1
    python bench/blind_read.py --score answers.txt --key artifacts/blind-read/1/key.tsv

The sheets hold real review sentences: write them under a git-ignored folder (artifacts/ or data/).
Use a fresh sheet for each reader and never tune the decks against one sheet.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.catalog import models  # noqa: E402
from app.data.corpus import FASHION  # noqa: E402
from app.game import decks, quiz  # noqa: E402

REAL, FAKE = "real", "fake"
SURE = "sure"
INSTRUCTIONS = """\
Fake or real? A blind-read sheet.

Some of these sentences come from real customer reviews of women's clothing, written by people.
The others were written by a language model. For each sentence, decide which it is.

Answer with one line per sentence: its id, then real (a person wrote it) or fake (a language model
wrote it), then the word sure if you are sure. For example:
    s07 fake sure
    s08 real

"""


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    real: bool
    deck: str  # bundle/writer/difficulty the sentence was dealt for


@dataclass(frozen=True)
class DeckSpec:
    bundle: str
    writer: str
    difficulty: str
    count: int | None = None  # sentences of this deck on the sheet (None: --make's N)

    @classmethod
    def parse(cls, spec: str) -> DeckSpec:
        """bundle/writer/difficulty[:count], e.g. fashion-reviews/word-lstm/normal:10."""
        name, _, count = spec.partition(":")
        parts = name.split("/")
        if len(parts) != 3 or parts[2] not in quiz.DIFFICULTIES or parts[1] not in decks.WRITERS:
            raise ValueError(f"a deck is bundle/writer/difficulty[:count], e.g. fashion-reviews/char-lstm/normal:40; "
                             f"not {spec!r}")
        return cls(parts[0], parts[1], parts[2], int(count) if count else None)

    @property
    def name(self) -> str:
        return f"{self.bundle}/{self.writer}/{self.difficulty}"


def deal(supply: quiz.GameSupply, spec: DeckSpec, count: int, rng: random.Random) -> list[tuple[str, bool]]:
    """count sentences of a deck, half real (rounded down), as the game deals them: single-mode
    games from the supply's shared dealers, as many as it takes."""
    want = {True: count - count // 2, False: count // 2}
    taken: list[tuple[str, bool]] = []
    while any(want.values()):
        game = supply.deal_game(spec.difficulty, "single", rng, spec.writer)
        for round_ in game.rounds:
            sentence = round_.sentences[0]
            if want[sentence.real]:
                want[sentence.real] -= 1
                taken.append((sentence.text, sentence.real))
    return taken


def make_sheet(supplies: dict[str, quiz.GameSupply], specs: list[DeckSpec], count: int,
               rng: random.Random) -> list[Item]:
    """Every deck's sentences, shuffled together, numbered s01, s02, ... in sheet order."""
    dealt, seen = [], set()
    for spec in specs:
        for _ in range(20):  # decks of the same lengths can deal the same real sentence: deal that deck again
            sentences = deal(supplies[spec.bundle], spec, spec.count or count, rng)
            if not seen & {text for text, _ in sentences}:
                break
        for text, real in sentences:
            if text not in seen:  # (should the dealers keep colliding, the sentence appears once)
                seen.add(text)
                dealt.append((text, real, spec.name))
    rng.shuffle(dealt)
    width = len(str(len(dealt)))
    return [Item(f"s{n + 1:0{width}d}", text, real, deck) for n, (text, real, deck) in enumerate(dealt)]


def sheet_text(items: list[Item]) -> str:
    return INSTRUCTIONS + "".join(f"{item.id}  {' '.join(item.text.split())}\n" for item in items)


def key_text(items: list[Item]) -> str:
    return "id\tclass\tdeck\ttext\n" + "".join(
        f"{i.id}\t{REAL if i.real else FAKE}\t{i.deck}\t{' '.join(i.text.split())}\n" for i in items)


def read_key(path: Path) -> dict[str, Item]:
    items = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            item_id, label, deck, text = line.split("\t", 3)
            items[item_id] = Item(item_id, text, label == REAL, deck)
    return items


@dataclass(frozen=True)
class Answer:
    says_real: bool
    sure: bool


def read_answers(text: str, key: dict[str, Item]) -> dict[str, Answer]:
    """``<id> <real|fake> [sure]`` per line; a clear ValueError for anything else."""
    answers = {}
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        words = [w.lower().strip(".,;:") for w in words]
        if len(words) not in (2, 3) or words[1] not in (REAL, FAKE) or words[2:] not in ([], [SURE]):
            raise ValueError(f"line {number}: expected '<id> real|fake [sure]', got {line!r}")
        item_id = words[0]
        if item_id not in key:
            raise ValueError(f"line {number}: no item {item_id!r} on this sheet")
        if item_id in answers:
            raise ValueError(f"line {number}: {item_id} answered twice")
        answers[item_id] = Answer(words[1] == REAL, bool(words[2:]))
    return answers


@dataclass
class Tally:
    """Counts of one group of answers: confusion[(truth, answer)], and the sure calls."""

    confusion: Counter
    sure: int = 0
    sure_right: int = 0

    @property
    def answered(self) -> int:
        return sum(self.confusion.values())

    @property
    def right(self) -> int:
        return self.confusion[(REAL, REAL)] + self.confusion[(FAKE, FAKE)]

    def accuracy(self, truth: str | None = None) -> float:
        """Right over answered, of one class (truth) or of all."""
        if truth is None:
            return self.right / self.answered if self.answered else float("nan")
        total = self.confusion[(truth, REAL)] + self.confusion[(truth, FAKE)]
        return self.confusion[(truth, truth)] / total if total else float("nan")


def score(key: dict[str, Item], answers: dict[str, Answer]) -> tuple[dict[str, Tally], int]:
    """(a Tally per deck and one under "all", how many items went unanswered)."""
    tallies: dict[str, Tally] = defaultdict(lambda: Tally(Counter()))
    for item_id, answer in answers.items():
        item = key[item_id]
        truth, said = (REAL if item.real else FAKE), (REAL if answer.says_real else FAKE)
        for group in (item.deck, "all"):
            tally = tallies[group]
            tally.confusion[(truth, said)] += 1
            if answer.sure:
                tally.sure += 1
                tally.sure_right += truth == said
    return dict(tallies), len(key) - len(answers)


def report(tallies: dict[str, Tally], unanswered: int) -> str:
    def percent(x: float) -> str:
        return "—" if x != x else f"{x:.1%}"

    lines = ["| deck | answered | right | reals called real | fakes caught | sure calls | sure right |",
             "|---|---|---|---|---|---|---|"]
    for deck in sorted(tallies, key=lambda d: (d == "all", d)):
        t = tallies[deck]
        lines.append(f"| {deck} | {t.answered} | {percent(t.accuracy())} | {percent(t.accuracy(REAL))} | "
                     f"{percent(t.accuracy(FAKE))} | {t.sure} | {percent(t.sure_right / t.sure if t.sure else float('nan'))} |")
    everything = tallies.get("all", Tally(Counter())).confusion
    lines += ["", "confusion (all decks): rows what it was, columns what the reader said",
              "| | said real | said fake |", "|---|---|---|",
              f"| real | {everything[(REAL, REAL)]} | {everything[(REAL, FAKE)]} |",
              f"| fake | {everything[(FAKE, REAL)]} | {everything[(FAKE, FAKE)]} |"]
    if unanswered:
        lines.append(f"\n{unanswered} items unanswered (left out of every figure)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--make", type=int, metavar="N", help="write a sheet of N sentences per deck (half real)")
    action.add_argument("--score", type=Path, metavar="ANSWERS", help="score a reader's answers against --key")
    parser.add_argument("--deck", action="append", type=DeckSpec.parse,
                        help="bundle/writer/difficulty[:count] (repeat; default: fashion-reviews/char-lstm/normal "
                             "and .../hard)")
    parser.add_argument("--out", type=Path, help="folder for sheet.txt and key.tsv (git-ignored: under artifacts/)")
    parser.add_argument("--key", type=Path, help="the key.tsv of the sheet the answers are for")
    parser.add_argument("--seed", type=int, help="for the shuffles (default: a fresh sheet every time)")
    args = parser.parse_args()
    if args.score:
        if not args.key:
            parser.error("--score needs --key")
        key = read_key(args.key)
        try:
            answers = read_answers(args.score.read_text(encoding="utf-8"), key)
        except ValueError as error:
            raise SystemExit(f"{args.score}: {error}") from None
        print(report(*score(key, answers)))
        return
    if not args.out:
        parser.error("--make needs --out (a git-ignored folder, e.g. artifacts/blind-read/1)")
    specs = args.deck or [DeckSpec.parse(f"{FASHION}/{decks.CHAR_LSTM}/{d}") for d in ("normal", "hard")]
    supplies = {}
    for bundle in dict.fromkeys(s.bundle for s in specs):
        supply = quiz.GameSupply.of(bundle, models.load_language_model(bundle))
        missing = [s.name for s in specs if s.bundle == bundle and s.writer not in supply.stored]
        if missing:
            raise SystemExit(f"no stored deck for {', '.join(missing)}: python -m app.training --corpus {bundle} "
                             f"--only decks")
        supplies[bundle] = supply
    items = make_sheet(supplies, specs, args.make, random.Random(args.seed))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sheet.txt").write_text(sheet_text(items), encoding="utf-8")
    (args.out / "key.tsv").write_text(key_text(items), encoding="utf-8")
    print(f"{len(items)} sentences: {args.out / 'sheet.txt'} (for the reader), {args.out / 'key.tsv'} (the key)")


if __name__ == "__main__":
    main()
