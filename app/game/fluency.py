"""A second reader for the decks: how fluently a sentence reads, word by word.

Blind readers catch the fakes whose words do not follow each other as people's do ("the pattern
are the best purchase"). In 793 answers on the earlier decks, they caught 86% of the fakes in
the least fluent quarter by this measure (the quarters of the real sentences) and 20% of those in
the most fluent quarter, while they called about nine real sentences in ten real in every
quarter (docs/fakes.md). The writer cannot see its own slips, which are likely to it by
construction, so a second model reads them: a word trigram (Kneser-Ney, ``app/lm/ngram.py``)
of the training split, forwards and backwards.

Per sentence, ``WordFluency.statistics`` gives (``COLUMNS``):

* the mean log-prob of its words (and of its end) read forwards, and read backwards;
* the worst fit each way: log P(word | the two before) - log P(word), low where a common word
  stands where people never put it (``are`` after ``the pattern``), not merely at a rare word;
* its characters per word: fluent sentences are made of short, common words, so a deck that
  keeps fluent fakes matches its real sentences' word length too (else it shows in a glance, and
  to a character n-gram detector).

``fluency_score`` is the one number a deck's floor compares: the mean of the two log-probs.

    >>> from app.data.corpus import Corpus
    >>> corpus = Corpus("toy", None, ["The dress fits well. The top fits well. I love the dress."] * 50)
    >>> fluency = WordFluency.of(corpus)
    >>> good, scrambled = fluency.score(["The dress fits well.", "Well the fits dress."])
    >>> bool(good > scrambled)
    True
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from app.data.corpus import Corpus, tokenize
from app.lm.ngram import UNKNOWN_TOKEN, KneserNey

ORDER = 3
BOUNDARY = "<s>"  # between sentences, in training as in scoring
COLUMNS = ("forward log-prob", "backward log-prob", "forward worst fit", "backward worst fit", "characters per word")


@dataclass
class WordFluency:
    """Word trigram models of the training split, one per reading direction, and word frequencies."""

    forward: KneserNey
    backward: KneserNey
    unigram_log_prob: np.ndarray  # per vocabulary id: log of its share of the training words (add-one)

    @classmethod
    def of(cls, corpus: Corpus) -> WordFluency:
        sentences = corpus.tokenized_sentences("train")
        counts = Counter(w for s in sentences for w in s)
        counts[BOUNDARY] = len(sentences)
        # words seen once stay unknown: the unknown token then has a probability like a rare word's
        vocabulary = [UNKNOWN_TOKEN, BOUNDARY] + sorted(w for w, c in counts.items() if c >= 2 and w != BOUNDARY)
        forward = KneserNey.fit(stream(sentences), ORDER, vocabulary)
        backward = KneserNey.fit(stream([s[::-1] for s in sentences]), ORDER, vocabulary)
        frequency = np.ones(len(vocabulary))
        for word, count in counts.items():
            frequency[forward.index.get(word, 0)] += count
        return cls(forward, backward, np.log(frequency / frequency.sum()))

    def statistics(self, texts: list[str]) -> np.ndarray:
        """(len(texts), len(COLUMNS)): see the module docstring."""
        words = [tokenize(t) for t in texts]
        forward = self._read(self.forward, words)
        backward = self._read(self.backward, [w[::-1] for w in words])
        characters = [len("".join(w)) / max(1, len(w)) for w in words]
        return np.column_stack([forward[0], backward[0], forward[1], backward[1], characters]).reshape(-1, len(COLUMNS))

    def score(self, texts: list[str]) -> np.ndarray:
        """How fluently each text reads (``fluency_score``)."""
        return fluency_score(self.statistics(texts))

    def _read(self, model: KneserNey, sentences: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Per sentence read after a boundary, to the boundary after it: (mean log-prob, worst fit)."""
        windows, history, owner = [], [], []
        for number, words in enumerate(sentences):
            sentence_windows, sentence_history = model.windows(model.encode([BOUNDARY, *words, BOUNDARY]), start=1)
            windows.append(sentence_windows)
            history.append(sentence_history)
            owner.append(np.full(len(sentence_history), number))
        if not windows:
            return np.zeros(0), np.zeros(0)
        windows_, owner_ = np.concatenate(windows), np.concatenate(owner)
        log_p = np.log(model.probabilities(windows_, np.concatenate(history)))
        fit = log_p - self.unigram_log_prob[windows_[:, -1]]
        mean = np.bincount(owner_, log_p, len(sentences)) / np.bincount(owner_, minlength=len(sentences))
        worst = np.full(len(sentences), np.inf)
        np.minimum.at(worst, owner_, fit)
        return mean, worst


def fluency_score(statistics: np.ndarray) -> np.ndarray:
    """One number per row of ``statistics``: the mean log-prob per word, forwards and backwards averaged."""
    return statistics[:, :2].mean(axis=1)


def stream(sentences: list[list[str]]) -> list[str]:
    """The sentences as one token stream, each followed by the boundary (and the first after one)."""
    return [BOUNDARY] + [w for s in sentences for w in (*s, BOUNDARY)]
