"""How detectable are the quiz's fakes? A character n-gram classifier against the game's own filters.

For each difficulty: n real test sentences against n fakes made exactly as the game makes them
(filters + best-of-n), then a logistic regression on character 1-4-gram TF-IDF, 5-fold
cross-validated. Accuracy near 50% means the fakes are hard to tell apart; the issue aims for
70% or less at normal difficulty. Also: the memorisation rate of the kept fakes (re-checked,
must be 0) and how many sampled sentences each filter rejected.

    python bench/detectability.py [--deck wiki-sample] [--n 1000] [--folds 5]

``bench/run.py`` imports ``detectability`` for its table.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import models, quiz  # noqa: E402
from app.corpus import FASHION, WIKI, fashion_corpus_path, load_corpus, tokenize  # noqa: E402


@dataclass
class DetectabilityRow:
    deck: str
    difficulty: str
    temperature: float
    pairs: int  # real and fake sentences each
    accuracy: float  # mean cross-validated accuracy of the classifier (lower is better)
    accuracy_std: float
    memorised: float  # kept fakes sharing an 8-word span with the training split (must be 0)
    counts: quiz.FilterCounts
    seconds: float  # making the fakes


def classifier_accuracy(real: list[str], fake: list[str], folds: int = 5, seed: int = 0) -> tuple[float, float]:
    """Mean and std of k-fold accuracy of char 1-4-gram TF-IDF + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, min_df=2),
                             LogisticRegression(max_iter=2000, C=1.0))
    scores = cross_val_score(pipeline, real + fake, [1] * len(real) + [0] * len(fake),
                             cv=StratifiedKFold(folds, shuffle=True, random_state=seed), scoring="accuracy")
    return float(scores.mean()), float(scores.std())


def make_fakes(lm, deck: quiz.Deck, difficulty: quiz.Difficulty, n: int, streams: int = 64,
               seed: int = 0) -> tuple[list[str], quiz.FilterCounts]:
    pool = quiz.FakePool(lm, deck, difficulty, capacity=n, streams=streams, seed=seed)
    dry = 0
    while len(pool) < n and dry < 20:
        dry = 0 if pool.produce_once() else dry + 1
    return [f.text for f in pool.fakes()[:n]], pool.counts


def detectability(deck: str = WIKI, n: int = 1000, difficulties: list[str] | None = None, folds: int = 5,
                  seed: int = 0, streams: int = 64) -> list[DetectabilityRow]:
    """One row per difficulty (n is capped by the real test sentences available)."""
    game_deck = quiz.build_deck(load_corpus(deck))
    lm = models.load_language_model(deck)
    n = min(n, len(game_deck.real_sentences))
    real = random.Random(seed).sample(game_deck.real_sentences, n)
    rows = []
    for name in difficulties or list(quiz.DIFFICULTIES):
        difficulty = quiz.DIFFICULTIES[name]
        started = time.monotonic()
        fake, counts = make_fakes(lm, game_deck, difficulty, n, streams, seed)
        seconds = time.monotonic() - started
        memorised = sum(game_deck.has_copied_span(tokenize(f)) for f in fake) / max(1, len(fake))
        pairs = min(len(real), len(fake))
        accuracy, std = classifier_accuracy(real[:pairs], fake[:pairs], folds, seed)
        rows.append(DetectabilityRow(deck, name, difficulty.temperature, pairs, accuracy, std, memorised,
                                     counts, seconds))
    return rows


def table(rows: list[DetectabilityRow]) -> str:
    header = ("| deck | difficulty | T | pairs | classifier accuracy | memorised | sampled | unfinished | "
              f"length | unknown word | copied | passed | kept (best-of-{quiz.BEST_OF}) | s |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in rows:
        c = r.counts
        lines.append(f"| {r.deck} | {r.difficulty} | {r.temperature} | {r.pairs} | {r.accuracy:.1%} ± {r.accuracy_std:.1%} "
                     f"| {r.memorised:.0%} | {c.sampled} | {c.unfinished} | {c.length} | {c.unknown_word} | {c.copied} "
                     f"| {c.passed} | {c.kept} | {r.seconds:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", default=FASHION if fashion_corpus_path().is_file() else WIKI)
    parser.add_argument("--n", type=int, default=1000, help="real and fake sentences per difficulty")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--difficulty", action="append", choices=list(quiz.DIFFICULTIES),
                        help="repeat to pick several (default: all)")
    parser.add_argument("--streams", type=int, default=64, help="samples drawn side by side")
    args = parser.parse_args()
    print(table(detectability(args.deck, args.n, args.difficulty, args.folds, streams=args.streams)))


if __name__ == "__main__":
    main()
