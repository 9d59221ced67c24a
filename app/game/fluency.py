"""Fluency: how smoothly a sentence reads, word by word, to models other than the scoring one.

Blind readers catch the fakes whose words do not follow each other as people's do ("the pattern
are the best purchase"). In 793 answers on the earlier decks, they caught 86% of the fakes in
the least fluent quarter by a word trigram's reading (the quarters of the real sentences) and 20%
of those in the most fluent quarter, while they called about nine real sentences in ten real in
every quarter (docs/fakes.md). Sampling keeps a writer's unlikely turns (nucleus sampling draws
from the likeliest 80% of the next words at every step, and a sentence adds up its steps), so
models read every candidate whole:

* a word trigram (Kneser-Ney, ``app/lm/ngram.py``) of the training split, forwards and backwards:
  it sees the words that do not follow each other, whoever wrote them;
* the bundle's word LSTM (``app/lm/wordlm.py``), when it has one: it reads the whole sentence so
  far, and sees some of the slips of meaning a trigram misses ("the sleeves are flattering, and
  not good"). Over 1,900 later answers, the two together ranked the fakes readers caught above
  those they missed more often than the trigram alone, the word LSTM's own fakes included
  (docs/fakes.md).

Per sentence, ``WordFluency.statistics`` gives (``COLUMNS``, then ``WORD_LSTM_COLUMN`` with a word LSTM):

* its characters per word: fluent sentences are made of short, common words, so a deck that
  keeps fluent fakes matches its real sentences' word length too (else it shows in a glance, and
  to a character n-gram detector);
* the worst fit each way: log P(word | the two before) - log P(word), low where a common word
  stands where people never put it (``are`` after ``the pattern``), not merely at a rare word;
* the mean log-prob of its words (and of its end) read forwards, and read backwards, by the trigram;
* the word LSTM's mean log-prob of its words, marks and end.

``fluency_score`` is the one number a deck's floor compares: the mean of the log-probs, one per
reader (all are nats per token).

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
from app.lm.wordlm import WordLanguageModel, word_tokens

ORDER = 3
BOUNDARY = "<s>"  # between sentences, in training as in scoring
COLUMNS = ("characters per word", "forward worst fit", "backward worst fit", "forward log-prob", "backward log-prob")
WORD_LSTM_COLUMN = "word LSTM log-prob"
LOG_PROBS_FROM = 3  # the columns from here on are log-probs, one per reader


@dataclass
class WordFluency:
    """Word trigram models of the training split, one per reading direction, word frequencies, and
    the bundle's word LSTM when it has one."""

    forward: KneserNey
    backward: KneserNey
    unigram_log_prob: np.ndarray  # per vocabulary id: log of its share of the training words (add-one)
    word_lm: WordLanguageModel | None = None

    @classmethod
    def of(cls, corpus: Corpus, word_lm: WordLanguageModel | None = None) -> WordFluency:
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
        return cls(forward, backward, np.log(frequency / frequency.sum()), word_lm)

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS + ((WORD_LSTM_COLUMN,) if self.word_lm is not None else ())

    def statistics(self, texts: list[str]) -> np.ndarray:
        """(len(texts), len(self.columns)): see the module docstring."""
        words = [tokenize(t) for t in texts]
        forward = self._read(self.forward, words)
        backward = self._read(self.backward, [w[::-1] for w in words])
        characters = [len("".join(w)) / max(1, len(w)) for w in words]
        columns = [characters, forward[1], backward[1], forward[0], backward[0]]
        if self.word_lm is not None:
            columns.append(self.word_lm.mean_log_probs([word_tokens(t) for t in texts]))
        return np.column_stack(columns).reshape(-1, len(self.columns))

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
    """One number per row of ``statistics``: its readers' mean log-probs per token, averaged."""
    return statistics[:, LOG_PROBS_FROM:].mean(axis=1)


def stream(sentences: list[list[str]]) -> list[str]:
    """The sentences as one token stream, each followed by the boundary (and the first after one)."""
    return [BOUNDARY] + [w for s in sentences for w in (*s, BOUNDARY)]
