"""How detectable are the quiz's stored decks? Nine detectors against real test sentences of the same length.

For each deck (bundle, writer, difficulty): its fakes against as many real TEST-split sentences
matched in word count, and five detectors, each a 5-fold cross-validated logistic regression
(``app/game/detectors.py``): character 1-4-gram TF-IDF, word 1-2-gram TF-IDF, the project LM's
likelihood profile (per-character log-prob mean, std, min, GLTR rank fractions), the same under
an independent character 7-gram Kneser-Ney model trained on the training split, and length only.
Then four detectors the selection never used (issue 24), which read what a person reads: semantic
coherence (how related the content words are in the bundle's skip-gram space, function-word and
connector shares), function-word patterns (TF-IDF, content words blanked), vocabulary rarity (training
counts of the words), and a neural discriminator (a CNN over the frozen skip-gram vectors, trained
on the other folds only). "strongest" is the maximum over all nine.
50% is chance. Also re-checked: memorisation (fakes that are a training sentence or share an 8-word span with the training
split: must be 0%) and duplicates in a deck (must be 0).

The decks were chosen on VALIDATION sentences with the project LM's profile, surface habits,
meaning features (coherence and rarity), for normal and hard the texts' style and their fluency to a
word trigram and the word LSTM (``app/game/decks.py``, ``app/game/fluency.py``); the function-word, 7-gram,
neural and length detectors took no part.

    python bench/detectability.py [--deck fashion-reviews] [--writer char-lstm] [--stored] [--write-docs]

Each row's figures are recomputed here; the manifest holds the ones measured when the decks
were written (same seeds: they agree).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.catalog import models
from app.data.corpus import FASHION, WIKI, fashion_corpus_path, load_corpus, tokenize  # noqa: E402
from app.game import (
    decks,
    quiz,  # noqa: E402
)
from app.game.detectors import (  # noqa: E402
    DETECTORS,
    UNTUNED_DETECTORS,
    Detection,
    LikelihoodStatistics,
    accuracies,
    fit_kneser_ney,
    matched_reals,
    untuned_accuracies,
    word_counts,
)
from app.game.fakes import TrainingText, sentence_key  # noqa: E402
from bench.doc_tables import add_write_docs_flag, write_docs  # noqa: E402

ALL_DETECTORS = DETECTORS + UNTUNED_DETECTORS
UNMEASURED = Detection(float("nan"), float("nan"), float("nan"))  # stored figures of decks graded before issue 24


@dataclass
class DetectabilityRow:
    deck: str
    writer: str
    difficulty: str
    fakes: int
    pairs: int  # real and fake sentences each
    detections: dict[str, Detection]
    memorised: float  # fakes that recite the training split: a whole sentence or an 8-word span (must be 0)
    duplicates: int  # fakes of the deck that another fake of it repeats (must be 0)

    @property
    def strongest(self) -> str:
        measured = [name for name in self.detections if self.detections[name].accuracy == self.detections[name].accuracy]
        return max(measured, key=lambda name: self.detections[name].accuracy)


def detectability(bundle: str = WIKI, writer: str = decks.CHAR_LSTM, difficulties: list[str] | None = None,
                  seed: int = 0, stored_figures: bool = False) -> list[DetectabilityRow]:
    """One row per difficulty of the bundle's stored decks of this writer; stored_figures: the
    detectors' figures as the manifest holds them instead of measuring them again."""
    stored = decks.load_stored_decks(bundle, writer)
    if stored is None:
        raise SystemExit(f"{bundle} has no stored {writer} decks for its LM: "
                         f"python -m app.training --corpus {bundle} --only decks")
    corpus = load_corpus(bundle)
    training = TrainingText.of(corpus)
    statistics = None if stored_figures else LikelihoodStatistics(models.load_language_model(bundle),
                                                                  fit_kneser_ney(corpus))
    reals = decks.real_sentences(corpus, "test")
    embeddings = None if stored_figures else models.load_embeddings(f"{bundle}/skipgram")
    counts = None if stored_figures else word_counts(corpus)
    rows = []
    for difficulty in difficulties or list(stored.decks):
        fakes = stored.texts(difficulty)
        matched = matched_reals(fakes, stored.reals(difficulty, reals), seed)  # the reals the deck deals
        memorised = sum(training.is_copied(tokenize(f)) for f in fakes) / max(1, len(fakes))
        duplicates = len(fakes) - len({sentence_key(f) for f in fakes})
        if stored_figures:
            figures = stored.metrics[difficulty]
            detections = {name: Detection(figures["detectors"][name], figures["detectors_std"][name],
                                          figures["detectors_fooled"][name]) if name in figures["detectors"]
                          else UNMEASURED for name in ALL_DETECTORS}
        else:
            detections = accuracies(fakes, matched, statistics, seed=seed) | untuned_accuracies(
                fakes, matched, embeddings, counts, seed=seed)
        rows.append(DetectabilityRow(bundle, writer, difficulty, len(fakes), min(len(fakes), len(matched)),
                                     detections, memorised, duplicates))
    return rows


def table(rows: list[DetectabilityRow]) -> str:
    header = ("| deck | writer | difficulty | fakes | pairs | " + " | ".join(ALL_DETECTORS) +
              " | strongest | memorised | duplicates |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for r in rows:
        figures = " | ".join("—" if r.detections[name] is UNMEASURED else
                             f"{r.detections[name].accuracy:.1%} ± {r.detections[name].accuracy_std:.1%}"
                             for name in ALL_DETECTORS)
        lines.append(f"| {r.deck} | {r.writer} | {r.difficulty} | {r.fakes} | {r.pairs} | {figures} | "
                     f"{r.strongest} {r.detections[r.strongest].accuracy:.1%} | {r.memorised:.0%} | {r.duplicates} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", action="append", help="bundle (repeat for several; default: fashion-reviews "
                                                        "when its corpus is here, and wiki-sample)")
    parser.add_argument("--writer", default=decks.CHAR_LSTM, choices=list(decks.WRITERS))
    parser.add_argument("--difficulty", action="append", choices=list(quiz.DIFFICULTIES),
                        help="repeat to pick several (default: all)")
    parser.add_argument("--stored", action="store_true",
                        help="print the figures stored in the manifest (measured by the decks stage) instead")
    add_write_docs_flag(parser, "bench/detectability.py")
    args = parser.parse_args()
    bundles = args.deck or ([FASHION] if fashion_corpus_path().is_file() else []) + [WIKI]
    measured = table([row for bundle in bundles
                      for row in detectability(bundle, args.writer, args.difficulty, stored_figures=args.stored)])
    print(measured)
    if args.write_docs:  # the rows of this run's decks (deck, writer, difficulty); the other decks' rows stay
        write_docs("bench/detectability.py", measured, merge=True)


if __name__ == "__main__":
    main()
