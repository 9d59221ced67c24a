"""Fake sentences: the character LSTM writes, the filters judge, and a pool keeps them coming.

A fake is sampled from the LSTM, by default with nucleus sampling (top-p 0.8: each character is
drawn from the likeliest ones that make up 80% of the probability). Blind readers caught far
fewer of those than of samples at temperature 1, whose unlikely tail characters turn into
phrases that are fluent word by word and mean nothing (docs/fakes.md has the trade-off: detectors
catch the nucleus samples more often, which the choice of decks then corrects). A sample is kept
only when it passes every filter:

* finished: it ends with . ! or ? (a sample may stop in the middle of a sentence);
* length: 5-30 words, like the real quiz sentences;
* vocabulary: every word occurs in the training split (no invented words to give it away; the
  sampler is already held to known words by ``KnownWordsOnly``, the filter re-checks);
* memorisation: the model must write, not recite: no 8-word span copied from the training
  split, and no sentence that is a whole training sentence (short ones have no 8-word span).

Which of the survivors make a deck, so that they pass for people's sentences, is
``app/game/decks.py``'s job. ``FakePool`` writes fakes live in a background thread: for models
trained in the app, which have no stored deck.
"""

from __future__ import annotations

import atexit
import random
import re
import threading
from dataclasses import dataclass

import numpy as np
import torch

from app.data.corpus import Corpus, normalise, split_sentences, tokenize
from app.lm.char_lstm import LanguageModel
from app.lm.sampling import Decoding, sample_batch

MIN_WORDS, MAX_WORDS = 5, 30
COPY_SPAN = 8  # a fake sharing this many consecutive words with the training split is "copied"
SAMPLE_LENGTH = 320  # characters per sampled document: long enough for a few sentences


AS_IS = Decoding()  # the model's own distribution
NUCLEUS = Decoding(top_p=0.8)  # what the quiz's writers use unless told otherwise (see above)


# ---------------------------------------------------------------- what the training split allows

@dataclass
class TrainingText:
    """What the filters need to know about a corpus's training split, built once per process."""

    vocabulary: frozenset[str]
    spans: np.ndarray  # sorted hashes of every COPY_SPAN-word span of the training split
    word_prefixes: frozenset[str]  # every prefix of every training word (for KnownWordsOnly)
    sentences: np.ndarray  # sorted hashes of every training sentence's words

    @classmethod
    def of(cls, corpus: Corpus) -> TrainingText:
        vocabulary: set[str] = set()
        hashes = []
        for document in corpus.split("train"):
            words = tokenize(document)
            vocabulary.update(words)
            hashes.append(span_hashes(words))
        spans = np.unique(np.concatenate(hashes)) if hashes else np.empty(0, dtype=np.int64)
        prefixes = frozenset(word[:i] for word in vocabulary for i in range(1, len(word) + 1))
        sentences = np.unique(np.fromiter((hash(sentence_key(s)) for s in corpus.sentences("train")), dtype=np.int64))
        return cls(frozenset(vocabulary), spans, prefixes, sentences)

    def has_copied_span(self, words: list[str]) -> bool:
        return _holds_any(self.spans, span_hashes(words))

    def is_training_sentence(self, words: list[str]) -> bool:
        return _holds_any(self.sentences, np.array([hash(" ".join(words))], dtype=np.int64))

    def is_copied(self, words: list[str]) -> bool:
        """Recited rather than written: a whole training sentence, or an 8-word span of one."""
        return self.is_training_sentence(words) or self.has_copied_span(words)


def _holds_any(sorted_hashes: np.ndarray, hashes: np.ndarray) -> bool:
    if not len(hashes) or not len(sorted_hashes):
        return False
    found = np.minimum(np.searchsorted(sorted_hashes, hashes), len(sorted_hashes) - 1)
    return bool(np.any(sorted_hashes[found] == hashes))


def span_hashes(words: list[str]) -> np.ndarray:
    """A 64-bit hash of every COPY_SPAN-word window of words (Python's hash: stable within a process)."""
    spans = [" ".join(words[i:i + COPY_SPAN]) for i in range(len(words) - COPY_SPAN + 1)]
    return np.fromiter((hash(s) for s in spans), dtype=np.int64, count=len(spans))


# ---------------------------------------------------------------- the filters

_SENTENCE_ENDING = re.compile(r"[.!?][\"')\]]*$")


def is_complete_sentence(sentence: str) -> bool:
    """Ends as a sentence does (. ! or ?, maybe closing a quote or bracket): never mid-word."""
    return bool(_SENTENCE_ENDING.search(sentence))


def sentence_key(sentence: str) -> str:
    """Two sentences with the same key are the same sentence (case and punctuation aside)."""
    return " ".join(tokenize(sentence))


@dataclass
class FilterCounts:
    """How many sampled sentences each filter turned away (the first failing filter counts)."""

    sampled: int = 0
    unfinished: int = 0  # the sample ran out before the sentence ended
    length: int = 0
    unknown_word: int = 0
    copied: int = 0
    passed: int = 0

    def add(self, other: FilterCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def rejection_reason(sentence: str, training: TrainingText) -> str | None:
    """Which filter a sampled sentence fails (a FilterCounts field name), or None if it passes."""
    if not is_complete_sentence(sentence):
        return "unfinished"
    words = tokenize(sentence)
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return "length"
    if any(w not in training.vocabulary for w in words):
        return "unknown_word"
    if training.is_copied(words):
        return "copied"
    return None


def keep_passing(sentences: list[str], training: TrainingText, counts: FilterCounts) -> list[str]:
    """The sentences that pass every filter; counts records why the others were turned away."""
    kept = []
    for sentence in sentences:
        counts.sampled += 1
        reason = rejection_reason(sentence, training)
        if reason is None:
            counts.passed += 1
            kept.append(sentence)
        else:
            setattr(counts, reason, getattr(counts, reason) + 1)
    return kept


# ---------------------------------------------------------------- sampling

def is_word_char(char: str) -> bool:
    """Characters that make up words for ``corpus.tokenize``: letters, digits, inner ' and -."""
    return char.isalnum() or char in "'-"


class KnownWordsOnly:
    """A sampling constraint: every word the model writes is a word of the training split.

    While a sample is inside a word, it may only continue with a character that keeps the word
    a prefix of some known word, and may only end the word where it is a whole known word. The
    model still chooses among what is allowed, by its own probabilities. (Without this the small
    wiki-sample model almost never writes a sentence free of invented words.)
    """

    def __init__(self, lm: LanguageModel, training: TrainingText):
        self.chars = lm.vocab.chars
        self.prefixes, self.words = training.word_prefixes, training.vocabulary
        self._masks: dict[str, torch.Tensor] = {}
        self.current: list[str] = []

    def start(self, count: int) -> None:
        self.current = [""] * count  # the word each sample is in the middle of (lower case)

    def mask_after(self, prefix: str) -> torch.Tensor:
        mask = self._masks.get(prefix)
        if mask is None:
            can_end = prefix == "" or prefix in self.words
            mask = torch.tensor([(prefix + c.lower()) in self.prefixes if is_word_char(c) else can_end
                                 for c in self.chars])
            mask[0] = False
            if not bool(mask.any()):  # a dead end the character set cannot finish: let the filter judge
                mask[1:] = True
            self._masks[prefix] = mask
        return mask

    def allowed(self) -> torch.Tensor:
        return torch.stack([self.mask_after(prefix) for prefix in self.current])

    def advance(self, next_ids: list[int]) -> None:
        for i, char_id in enumerate(next_ids):
            char = self.chars[char_id]
            self.current[i] = self.current[i] + char.lower() if is_word_char(char) else ""


def sample_sentences(lm: LanguageModel, training: TrainingText, streams: int = 32, seed: int = 0,
                     counts: FilterCounts | None = None, should_stop=None,
                     decoding: Decoding = NUCLEUS) -> list[str]:
    """One batch of sampled documents -> the sentences that pass every filter.

    Sentences are cut from whole sampled documents (after the first, they start mid-text as
    real test sentences do); the last one of a sample is usually unfinished and is dropped.
    """
    counts = counts if counts is not None else FilterCounts()
    sentences = []
    for sample in sample_batch(lm, streams, SAMPLE_LENGTH, decoding.temperature, seed=seed, top_p=decoding.top_p,
                               constraint=KnownWordsOnly(lm, training), should_stop=should_stop):
        sentences += split_sentences(normalise(sample))
    return keep_passing(sentences, training, counts)


# ---------------------------------------------------------------- live fakes, for user-trained models

# Background samplers must be stopped before the interpreter exits: a torch computation still
# running in a daemon thread at shutdown aborts the process.
_shutting_down = threading.Event()
_producers: list[threading.Thread] = []


@atexit.register
def _stop_producers() -> None:
    _shutting_down.set()
    for thread in list(_producers):
        thread.join(timeout=30)


def background(target, name: str) -> threading.Thread:
    """Start target in a daemon thread that the interpreter waits for at exit (see above);
    a long-running target should return once ``shutting_down()``."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    _producers[:] = [t for t in _producers if t.is_alive()] + [thread]
    return thread


def shutting_down() -> bool:
    return _shutting_down.is_set()


class FakePool:
    """Filtered fakes of one model, written ahead of time by a background thread.

    For models without a stored deck (trained in the app). Players share the pool: a game draws
    fakes at random (without repeats inside the game). The pool grows to ``capacity``, then the
    thread rests. If a game needs more fakes than are ready, the caller writes them itself.
    """

    def __init__(self, lm: LanguageModel, training: TrainingText, name: str = "fakes",
                 capacity: int = 200, ahead: int = 30, streams: int = 32, seed: int = 0):
        self.lm, self.training, self.name = lm, training, name
        self.capacity, self.ahead, self.streams = capacity, ahead, streams
        self.handed_out = 0
        self.counts = FilterCounts()
        self._fakes: list[str] = []
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        self._next_seed = seed
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._fakes)

    def fakes(self) -> list[str]:
        with self._lock:
            return list(self._fakes)

    def produce_once(self) -> int:
        """Sample one batch and add its new fakes; returns how many were added."""
        with self._lock:
            seed, self._next_seed = self._next_seed, self._next_seed + 1
        counts = FilterCounts()
        written = sample_sentences(self.lm, self.training, self.streams, seed, counts, _shutting_down.is_set)
        with self._lock:
            self.counts.add(counts)
            before = len(self._fakes)
            for text in written:
                if sentence_key(text) not in self._keys:
                    self._keys.add(sentence_key(text))
                    self._fakes.append(text)
            return len(self._fakes) - before

    def start(self) -> None:
        """Fill the pool in a daemon thread (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = background(self._fill, f"fakes-{self.name}")

    @property
    def target(self) -> int:
        """How many fakes to have ready: a head start, growing as games draw on the pool."""
        return min(self.capacity, self.ahead + 2 * self.handed_out)

    def _fill(self) -> None:
        misses = 0  # batches in a row that added nothing: the model has run dry
        while len(self) < self.target and misses < 50 and not _shutting_down.is_set():
            misses = 0 if self.produce_once() else misses + 1

    def take(self, count: int, rng: random.Random, max_batches: int = 200) -> list[str]:
        """count distinct fakes at random; written here and now if the pool is short."""
        for _ in range(max_batches):
            if len(self) >= count:
                break
            self.produce_once()
        with self._lock:
            fakes = list(self._fakes)
            if len(fakes) < count:
                raise RuntimeError(f"the model wrote only {len(fakes)} usable fakes")
            self.handed_out += count
        return rng.sample(fakes, count)
