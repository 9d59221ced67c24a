"""How detectable is a deck of fakes? Five detectors, each a 5-fold cross-validated logistic regression.

Each detector sees the same sentences: a deck's fakes and as many real TEST-split sentences,
matched in length (for every fake, a real sentence of the same word count when there is one
left, else the nearest). Its accuracy is how often it tells them apart: 50% is chance.

* ``char n-grams``: TF-IDF of character 1-4-grams;
* ``word n-grams``: TF-IDF of word 1-2-grams;
* ``project LM``: the char-LSTM's per-character log-prob mean, std and min and GLTR rank
  fractions (the likelihood profile ``app/game/decks.py`` selects on, but fitted on other sentences);
* ``independent 7-gram``: the same statistics under a character 7-gram Kneser-Ney model
  (``app/lm/ngram.py``) trained on the training split: a model the selection never saw;
* ``length``: words and characters only, the floor any cue must beat.

The decks are chosen on VALIDATION sentences; these detectors are fitted and scored on TEST
sentences, and the char n-gram, word n-gram, 7-gram and length detectors share nothing with the
selection.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from app.data.corpus import Corpus, tokenize
from app.game.decks import real_sentences
from app.lm.char_lstm import DOCUMENT_BREAK, LanguageModel
from app.lm.ngram import KneserNey

DETECTORS = ("char n-grams", "word n-grams", "project LM", "independent 7-gram", "length")
KN_ORDER = 7


def matched_reals(fakes: list[str], reals: list[str], seed: int = 0) -> list[str]:
    """One real sentence per fake, of the same word count where possible (each used once)."""
    by_length: dict[int, list[str]] = defaultdict(list)
    for real in random.Random(seed).sample(reals, len(reals)):
        by_length[len(tokenize(real))].append(real)
    chosen = []
    for fake in fakes:
        n = len(tokenize(fake))
        lengths = sorted((length for length, left in by_length.items() if left), key=lambda m: (abs(m - n), m))
        if not lengths:
            break
        chosen.append(by_length[lengths[0]].pop())
    return chosen


@dataclass(frozen=True)
class Detection:
    accuracy: float  # mean over the folds (50% = chance)
    accuracy_std: float
    fooled: float  # fakes it took for real, over all folds: comparable to a room's fooled rate


def cross_validated(x, labels: np.ndarray, folds: int = 5, seed: int = 0, text: dict | None = None) -> Detection:
    """k-fold cross-validated logistic regression (after TF-IDF when text is given, else on
    standardised features); labels 1 = real, 0 = fake."""
    # app.training.stages, which the training page imports, imports this module to grade decks:
    # imported here, scikit-learn (about 1.5 s to import) is kept out of that page's start-up.
    from sklearn.base import clone
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    first = TfidfVectorizer(sublinear_tf=True, min_df=2, **text) if text else StandardScaler()
    pipeline = make_pipeline(first, LogisticRegression(max_iter=5000, C=1.0))
    predicted = np.empty(len(labels))
    scores = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels):
        pick = (lambda rows: [x[i] for i in rows]) if isinstance(x, list) else (lambda rows: x[rows])
        predicted[test] = clone(pipeline).fit(pick(train), labels[train]).predict(pick(test))
        scores.append(float(np.mean(predicted[test] == labels[test])))
    return Detection(float(np.mean(scores)), float(np.std(scores)), float(np.mean(predicted[labels == 0] == 1)))


def likelihood_statistics(log_probs: list[np.ndarray], ranks: list[np.ndarray]) -> np.ndarray:
    """Per sentence: log-prob mean, std, min, and the fractions of characters ranked 1, 2-10, > 100."""
    return np.array([[lp.mean(), lp.std(), lp.min(), np.mean(r == 1), np.mean((r > 1) & (r <= 10)), np.mean(r > 100)]
                     for lp, r in zip(log_probs, ranks, strict=True)])


def project_lm_statistics(lm: LanguageModel, texts: list[str]) -> np.ndarray:
    scores = lm.score_batch(texts)
    return likelihood_statistics([s.log_probs.astype(np.float64) for s in scores], [s.ranks for s in scores])


def kneser_ney_statistics(model, texts: list[str], chunk: int = 4000) -> np.ndarray:
    """The same statistics under an n-gram model: each sentence read after a document break."""
    vocabulary = len(model.vocabulary)
    log_probs, ranks = [], []
    for text in texts:
        ids = np.concatenate([model.encode(DOCUMENT_BREAK), model.encode(text)])
        padded = np.concatenate([np.zeros(model.order - 1, dtype=np.int64), ids])
        rows = np.arange(1, len(ids))
        windows = padded[rows[:, None] + np.arange(model.order)]
        history = np.minimum(rows, model.order - 1)
        # every vocabulary token in the last slot: the rank of what was written among all of them
        every = np.repeat(windows, vocabulary, axis=0)
        every[:, -1] = np.tile(np.arange(vocabulary), len(rows))
        p_all = np.concatenate([model.probabilities(every[i:i + chunk], np.repeat(history, vocabulary)[i:i + chunk])
                                for i in range(0, len(every), chunk)]).reshape(len(rows), vocabulary)
        p = p_all[np.arange(len(rows)), ids[1:]]
        log_probs.append(np.log(p))
        ranks.append((p_all > p[:, None]).sum(axis=1) + 1)
    return likelihood_statistics(log_probs, ranks)


def fit_kneser_ney(corpus: Corpus) -> KneserNey:
    return KneserNey.fit(DOCUMENT_BREAK.join(corpus.split("train")), order=KN_ORDER)


def length_statistics(texts: list[str]) -> np.ndarray:
    return np.array([[len(tokenize(t)), len(t)] for t in texts], dtype=np.float64)


class LikelihoodStatistics:
    """project_lm_statistics and kneser_ney_statistics of texts, each text computed once (the
    decks of a bundle share fakes, and their matched reals overlap)."""

    def __init__(self, lm: LanguageModel, kneser_ney):
        self.lm, self.kneser_ney = lm, kneser_ney
        self._rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        new = [t for t in dict.fromkeys(texts) if t not in self._rows]
        if new:
            for text, lm_row, kn_row in zip(new, project_lm_statistics(self.lm, new),
                                            kneser_ney_statistics(self.kneser_ney, new), strict=True):
                self._rows[text] = (lm_row, kn_row)
        return (np.array([self._rows[t][0] for t in texts]), np.array([self._rows[t][1] for t in texts]))


def accuracies(fakes: list[str], reals: list[str], statistics: LikelihoodStatistics, folds: int = 5,
               seed: int = 0) -> dict[str, Detection]:
    """Every detector's cross-validated figures on fakes against as many reals."""
    n = min(len(fakes), len(reals))
    texts = fakes[:n] + reals[:n]
    labels = np.r_[np.zeros(n), np.ones(n)]
    project_lm, kneser_ney = statistics(texts)
    return {
        "char n-grams": cross_validated(texts, labels, folds, seed, {"analyzer": "char", "ngram_range": (1, 4)}),
        "word n-grams": cross_validated(texts, labels, folds, seed, {"analyzer": "word", "ngram_range": (1, 2)}),
        "project LM": cross_validated(project_lm, labels, folds, seed),
        "independent 7-gram": cross_validated(kneser_ney, labels, folds, seed),
        "length": cross_validated(length_statistics(texts), labels, folds, seed),
    }


def grade_decks(corpus: Corpus, lm: LanguageModel, prepared, kneser_ney=None, seed: int = 0) -> None:
    """Put every detector's accuracy on each of prepared's decks into prepared.metrics."""
    statistics = LikelihoodStatistics(lm, kneser_ney or fit_kneser_ney(corpus))
    reals = real_sentences(corpus, "test")
    for difficulty, indices in prepared.decks.items():
        fakes = [prepared.fakes[i] for i in indices]
        matched = matched_reals(fakes, reals, seed)
        scores = accuracies(fakes, matched, statistics, seed=seed)
        prepared.metrics[difficulty] |= {
            "pairs": min(len(fakes), len(matched)),
            "detectors": {name: round(d.accuracy, 4) for name, d in scores.items()},
            "detectors_std": {name: round(d.accuracy_std, 4) for name, d in scores.items()},
            "detectors_fooled": {name: round(d.fooled, 4) for name, d in scores.items()}}
        print(f"{difficulty}: " + ", ".join(f"{name} {d.accuracy:.1%}" for name, d in scores.items()))
