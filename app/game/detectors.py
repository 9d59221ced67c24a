"""How detectable is a deck of fakes? Nine detectors, each 5-fold cross-validated (four added by issue 24, below).

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
sentences. The project-LM, char n-gram and word n-gram detectors read feature families the
selection also matched (the likelihood profile; the style of normal's and hard's filtering), so
read them as checks of its matching; the 7-gram and length detectors share nothing with it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from app.data.corpus import Corpus, tokenize
from app.game.decks import PLANS, plays, real_sentences
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
        windows, history = model.windows(ids, start=1)
        # every vocabulary token in the last slot: the rank of what was written among all of them
        every = np.repeat(windows, vocabulary, axis=0)
        every[:, -1] = np.tile(np.arange(vocabulary), len(history))
        p_all = np.concatenate([model.probabilities(every[i:i + chunk], np.repeat(history, vocabulary)[i:i + chunk])
                                for i in range(0, len(every), chunk)]).reshape(len(history), vocabulary)
        p = p_all[np.arange(len(history)), ids[1:]]
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


def grade_decks(corpus: Corpus, lm: LanguageModel, prepared, kneser_ney=None, seed: int = 0, embeddings=None,
                vocabulary: frozenset[str] | None = None) -> None:
    """Put every detector's accuracy on each of prepared's decks into prepared.metrics (the untuned
    ones too when the bundle's skip-gram embeddings are given), and the strongest of them. Each
    deck is graded against the real test sentences it deals: those it chose, or every one it plays
    (``decks.plays``: its lengths, and the writer's vocabulary when it has one)."""
    statistics = LikelihoodStatistics(lm, kneser_ney or fit_kneser_ney(corpus))
    reals = real_sentences(corpus, "test")
    counts = word_counts(corpus) if embeddings is not None else {}
    for difficulty, indices in prepared.decks.items():
        fakes = [prepared.fakes[i] for i in indices]
        matched = matched_reals(fakes, prepared.reals.get(difficulty) or plays(reals, PLANS[difficulty].words, vocabulary), seed)
        scores = accuracies(fakes, matched, statistics, seed=seed)
        if embeddings is not None:
            scores |= untuned_accuracies(fakes, matched, embeddings, counts, seed=seed)
        strongest = max(scores, key=lambda name: scores[name].accuracy)
        prepared.metrics[difficulty] |= {
            "pairs": min(len(fakes), len(matched)),
            "detectors": {name: round(d.accuracy, 4) for name, d in scores.items()},
            "detectors_std": {name: round(d.accuracy_std, 4) for name, d in scores.items()},
            "detectors_fooled": {name: round(d.fooled, 4) for name, d in scores.items()},
            "strongest_detector": {"name": strongest, "accuracy": round(scores[strongest].accuracy, 4)}}
        print(f"{difficulty}: " + ", ".join(f"{name} {d.accuracy:.1%}" for name, d in scores.items()), flush=True)


def meaning_statistics(embeddings, counts: dict[str, int]):
    """texts -> coherence and rarity statistics side by side: what ``decks.prepare_decks`` filters
    and selects on as "meaning" (the graders fit their own models to other sentences)."""
    return lambda texts: np.hstack([coherence_statistics(texts, embeddings), rarity_statistics(texts, counts)])


# ---------------------------------------------------------------- detectors the selection never used (issue 24)
#
# A person reads for meaning: these look at what the words mean and how rare they are, not at
# how likely the characters are. The function-word and neural detectors took no part in choosing a
# deck; the coherence and rarity statistics are also what normal's and hard's "meaning" features
# match (``meaning_statistics``), fitted again here on test sentences: checks of that matching.
#
# * ``coherence``: how related a sentence's content words are in the bundle's skip-gram space
#   (pairwise, neighbour and centroid cosines), with its share of function words and connectors;
# * ``function words``: TF-IDF of the sentence's function-word pattern (content words as "_");
# * ``rare words``: how often its words occur in the training split (log counts, rare shares);
# * ``neural``: a small CNN over the frozen skip-gram vectors, trained on the other folds.

UNTUNED_DETECTORS = ("coherence", "function words", "rare words", "neural")
CONNECTORS = frozenset("but because so however although though and or yet while since".split())


def function_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # start-up: see cross_validated

    return frozenset(ENGLISH_STOP_WORDS)


def coherence_statistics(texts: list[str], embeddings) -> np.ndarray:
    """Per sentence: pairwise cosine of its content words (mean, median, min, max, std), cosine
    of neighbouring content words (mean, min), to their centroid (mean, min), share of content
    words known to the embeddings, share of function words, connectors per word."""
    stop = function_words()
    rows = []
    for text in texts:
        words = tokenize(text)
        content = [w for w in words if w not in stop and w in embeddings and any(c.isalpha() for c in w)]
        vectors = embeddings.unit[[embeddings.index[w] for w in content]] if content else np.zeros((0, 1))
        if len(content) >= 2:
            cosines = vectors @ vectors.T
            pairs = cosines[np.triu_indices(len(content), 1)]
            neighbours = np.diag(cosines, 1)
            centroid = vectors.mean(0)
            to_centroid = vectors @ (centroid / max(np.linalg.norm(centroid), 1e-8))
            stats = [pairs.mean(), np.median(pairs), pairs.min(), pairs.max(), pairs.std(), neighbours.mean(),
                     neighbours.min(), to_centroid.mean(), to_centroid.min()]
        else:
            stats = [0.0] * 9
        n = max(1, len(words))
        rows.append(stats + [len(content) / n, sum(w in stop for w in words) / n, sum(w in CONNECTORS for w in words) / n])
    return np.array(rows, dtype=np.float64)


def function_word_patterns(texts: list[str]) -> list[str]:
    """Each sentence with its content words replaced by "_": 'i bought it in _ _ and _ it'."""
    stop = function_words()
    return [" ".join(w if w in stop else "_" for w in tokenize(t)) for t in texts]


def word_counts(corpus: Corpus) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for document in corpus.split("train"):
        for word in tokenize(document):
            counts[word] += 1
    return dict(counts)


def rarity_statistics(texts: list[str], counts: dict[str, int]) -> np.ndarray:
    """Per sentence: log training counts of its words (mean, min, max, std, of the rarest three),
    shares of words seen < 1, < 5, < 50 times."""
    rows = []
    for text in texts:
        seen = np.array([counts.get(w, 0) for w in tokenize(text)] or [0], dtype=np.float64)
        logs = np.log1p(seen)
        rows.append([logs.mean(), logs.min(), logs.max(), logs.std(), np.sort(logs)[:3].mean(),
                     np.mean(seen < 1), np.mean(seen < 5), np.mean(seen < 50)])
    return np.array(rows, dtype=np.float64)


def neural_detection(texts: list[str], labels: np.ndarray, embeddings, folds: int = 5, seed: int = 0,
                     epochs: int = 12, max_words: int = 40) -> Detection:
    """k-fold cross-validated CNN over the frozen skip-gram vectors (widths 1-3, max-pooled):
    each fold's network is trained on the other folds only, never on what it grades."""
    import torch
    from sklearn.model_selection import StratifiedKFold

    ids = np.zeros((len(texts), max_words), dtype=np.int64)  # 0: padding, 1: unknown, i + 2: embeddings row i
    for row, text in enumerate(texts):
        words = tokenize(text)[:max_words]
        ids[row, :len(words)] = [embeddings.index.get(w, -1) + 2 for w in words]
    table = np.vstack([np.zeros((2, embeddings.dimensions), np.float32), embeddings.unit])

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding.from_pretrained(torch.from_numpy(table), freeze=True, padding_idx=0)
            self.convs = torch.nn.ModuleList(torch.nn.Conv1d(table.shape[1], 48, w, padding=w - 1) for w in (1, 2, 3))
            self.out = torch.nn.Sequential(torch.nn.Dropout(0.3), torch.nn.Linear(48 * 3, 1))

        def forward(self, x):
            h = self.embed(x).transpose(1, 2)
            return self.out(torch.cat([torch.relu(c(h)).max(-1).values for c in self.convs], 1))[:, 0]

    predicted = np.empty(len(labels))
    scores = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels):
        torch.manual_seed(seed)
        net = Net()
        optimiser = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=2e-3, weight_decay=1e-4)
        x, y = torch.from_numpy(ids[train]), torch.from_numpy(labels[train].astype(np.float32))
        order = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            net.train()
            for batch in torch.randperm(len(train), generator=order).split(32):
                optimiser.zero_grad()
                torch.nn.functional.binary_cross_entropy_with_logits(net(x[batch]), y[batch]).backward()
                optimiser.step()
        net.eval()
        with torch.no_grad():
            predicted[test] = (net(torch.from_numpy(ids[test])) > 0).numpy().astype(float)
        scores.append(float(np.mean(predicted[test] == labels[test])))
    return Detection(float(np.mean(scores)), float(np.std(scores)), float(np.mean(predicted[labels == 0] == 1)))


def untuned_accuracies(fakes: list[str], reals: list[str], embeddings, counts: dict[str, int], folds: int = 5,
                       seed: int = 0) -> dict[str, Detection]:
    """The detectors the selection never used, cross-validated on fakes against as many reals."""
    n = min(len(fakes), len(reals))
    texts = fakes[:n] + reals[:n]
    labels = np.r_[np.zeros(n), np.ones(n)]
    return {
        "coherence": cross_validated(coherence_statistics(texts, embeddings), labels, folds, seed),
        "function words": cross_validated(function_word_patterns(texts), labels, folds, seed,
                                          {"analyzer": "word", "ngram_range": (1, 3), "token_pattern": r"\S+"}),
        "rare words": cross_validated(rarity_statistics(texts, counts), labels, folds, seed),
        "neural": neural_detection(texts, labels, embeddings, folds, seed),
    }
