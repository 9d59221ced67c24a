"""Decoding for coherence: how detectable are the writer's raw samples under each decoding?

Ippolito et al. (2020): the decoding that people find more coherent (lower temperature, top-k,
nucleus) is the one automatic detectors catch more easily. This measures the machine side of that
trade-off; blind readers measure the other (``bench/blind_read.py``, docs/fakes.md).

For each decoding, the char-LSTM samples candidates through the quiz's own filters
(``app/game/fakes.py``: finished, 5-30 words, known words, nothing recited), nothing chosen; a
random ``--fakes`` of them are graded against as many real TEST sentences matched in word count,
by every detector of ``bench/detectability.py`` (5-fold cross-validated).

    python bench/decoding.py [--deck fashion-reviews] [--fakes 500] [--write-docs]
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.catalog import models  # noqa: E402
from app.data.corpus import FASHION, WIKI, fashion_corpus_path, load_corpus  # noqa: E402
from app.game import decks  # noqa: E402
from app.game.detectors import (  # noqa: E402
    LikelihoodStatistics,
    accuracies,
    fit_kneser_ney,
    matched_reals,
    untuned_accuracies,
    word_counts,
)
from app.game.fakes import AS_IS, Decoding, FilterCounts, TrainingText  # noqa: E402
from bench.detectability import ALL_DETECTORS  # noqa: E402
from bench.doc_tables import add_write_docs_flag, write_docs  # noqa: E402

DECODINGS = (AS_IS, Decoding(temperature=0.8), Decoding(temperature=0.7), Decoding(top_p=0.9), Decoding(top_p=0.8))


def sample(bundle: str, decoding: Decoding, count: int, corpus, training: TrainingText) -> list[str]:
    """count distinct filtered candidates of the bundle's char-LSTM under decoding."""
    writer = decks.char_lstm_writer(models.load_language_model(bundle), training, streams=128)(decoding)
    written: dict[str, str] = {}
    for seed in range(10_000, 10_200):  # seeds of their own: not the decks' candidates
        for text in writer(seed, FilterCounts()):
            written.setdefault(" ".join(text.lower().split()), text)
        if len(written) >= count:
            break
    return list(written.values())[:count]


@dataclass
class DecodingRow:
    deck: str
    decoding: str
    nats_per_char: float  # mean, by the project LM
    accuracies: dict[str, float]  # detector -> 5-fold accuracy (empty for the real sentences' row)


def table(rows: list[DecodingRow]) -> str:
    header = "| deck | decoding | nats/char | " + " | ".join(ALL_DETECTORS) + " | strongest |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in rows:
        strongest = max(r.accuracies, key=r.accuracies.get) if r.accuracies else None
        lines.append(f"| {r.deck} | {r.decoding} | {r.nats_per_char:.2f} | "
                     + " | ".join(f"{r.accuracies[n]:.1%}" if n in r.accuracies else "—" for n in ALL_DETECTORS)
                     + (f" | {strongest} {r.accuracies[strongest]:.1%} |" if strongest else " | — |"))
    return "\n".join(lines)


def measure(bundle: str, fakes_per_decoding: int, seed: int = 0) -> list[DecodingRow]:
    corpus = load_corpus(bundle)
    training = TrainingText.of(corpus)
    lm = models.load_language_model(bundle)
    statistics = LikelihoodStatistics(lm, fit_kneser_ney(corpus))
    reals = decks.real_sentences(corpus, "test")
    embeddings, counts = models.load_embeddings(f"{bundle}/skipgram"), word_counts(corpus)
    rows = [DecodingRow(bundle, "real test sentences", decks.average_nats_per_char(lm, reals, limit=fakes_per_decoding), {})]
    for decoding in DECODINGS:
        written = sample(bundle, decoding, fakes_per_decoding * 2, corpus, training)
        fakes = random.Random(seed).sample(written, min(fakes_per_decoding, len(written)))
        matched = matched_reals(fakes, reals, seed)
        scores = accuracies(fakes, matched, statistics, seed=seed) | untuned_accuracies(fakes, matched, embeddings,
                                                                                       counts, seed=seed)
        rows.append(DecodingRow(bundle, decoding.name, float(np.mean([s.nats_per_char for s in lm.score_batch(fakes)])),
                                {name: d.accuracy for name, d in scores.items()}))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", default=None, help="bundle (default: fashion-reviews when its corpus is here, "
                                                     "else wiki-sample)")
    parser.add_argument("--fakes", type=int, default=500, help="raw candidates graded per decoding")
    add_write_docs_flag(parser, "bench/decoding.py")
    args = parser.parse_args()
    bundle = args.deck or (FASHION if fashion_corpus_path().is_file() else WIKI)
    measured = table(measure(bundle, args.fakes))
    print(measured)
    if args.write_docs:
        write_docs("bench/decoding.py", measured, merge=True)


if __name__ == "__main__":
    main()
