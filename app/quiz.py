"""Fake or real? The guessing game: decks, fake sentences, rounds, points and the reveal.

A deck pairs a corpus with the character LSTM trained on it. Real sentences come from the
corpus's TEST split (the model never trained on them); fakes are sampled from the LSTM and kept
only when they pass every filter:

* length: 8-30 words, like the real ones;
* vocabulary: every word occurs in the training split (no invented words to give it away; the
  sampler is already held to known words by ``KnownWordsOnly``, the filter re-checks);
* memorisation: no 8-word span is copied from the training split (the model must write, not recite);
* best-of-n: of n survivors, the one the model itself finds most likely.

Difficulty is the sampling temperature: lower reads more fluently to people, although a
character n-gram classifier finds those blander fakes easier to spot (bench/detectability.py). A ``FakePool`` per (deck, difficulty) makes fakes in a
background thread ahead of time, so a round starts at once. Everything else here is plain data:
a ``Game`` is a list of ``Round``s, each answered with a guess and a confidence.
"""

from __future__ import annotations

import atexit
import hashlib
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from app import store
from app.charlm import LanguageModel, sample_batch
from app.corpus import (
    FASHION,
    FASHION_ENV,
    FASHION_FILE,
    WIKI,
    Corpus,
    fashion_corpus_path,
    load_corpus,
    normalise,
    split_sentences,
    tokenize,
)
from app.highlight import Piece, rank_bucket

MIN_WORDS, MAX_WORDS = 8, 30
COPY_SPAN = 8  # a fake sharing this many consecutive words with the training split is "copied"
ROUNDS_PER_GAME = 10
SAMPLE_LENGTH = 320  # characters per sampled document: long enough for a few sentences


# ---------------------------------------------------------------- settings players choose

@dataclass(frozen=True)
class Difficulty:
    name: str
    temperature: float
    description: str


# Lower temperature: the model picks its likeliest characters, so fakes read more fluently.
DIFFICULTIES = {
    "easy": Difficulty("easy", 1.1, "bold sampling: odd word choices give it away"),
    "normal": Difficulty("normal", 0.9, "close to the model's own voice"),
    "hard": Difficulty("hard", 0.7, "cautious sampling: fluent, plain sentences"),
}
MODES = {"single": "Human or LSTM?", "pair": "Which is real?"}
HUMAN, LSTM = "human", "lstm"

# (points when right, points when wrong). Being sure pays more and costs more: it is worth
# saying "sure" only when you are right more than 2 times in 3 (2p - 3(1 - p) > p - (1 - p)).
POINTS = {"think so": (1, -1), "sure": (2, -3)}
CONFIDENCES = tuple(POINTS)
# Best-of-n by likelihood makes fakes read more smoothly but also more generic: in
# bench/detectability.py a character n-gram classifier tells normal fakes apart 54% of the time
# with n = 1, 64% with n = 2 and 69-71% with n = 4 (fashion deck, 200 + 200 sentences).
BEST_OF = 2


# ---------------------------------------------------------------- decks

@dataclass
class Deck:
    """What the game needs from a corpus, built once per process."""

    name: str
    real_sentences: list[str]  # test split, 8-30 words, deduplicated
    training_vocabulary: frozenset[str]
    training_spans: np.ndarray  # sorted hashes of every COPY_SPAN-word span of the training split
    word_prefixes: frozenset[str]  # every prefix of every training word (for KnownWordsOnly)

    def has_copied_span(self, words: list[str]) -> bool:
        hashes = span_hashes(words)
        if not len(hashes) or not len(self.training_spans):
            return False
        found = np.minimum(np.searchsorted(self.training_spans, hashes), len(self.training_spans) - 1)
        return bool(np.any(self.training_spans[found] == hashes))


def span_hashes(words: list[str]) -> np.ndarray:
    """A 64-bit hash of every COPY_SPAN-word window of words (Python's hash: stable within a process)."""
    spans = [" ".join(words[i:i + COPY_SPAN]) for i in range(len(words) - COPY_SPAN + 1)]
    return np.fromiter((hash(s) for s in spans), dtype=np.int64, count=len(spans))


def word_count_in_range(sentence: str) -> bool:
    return MIN_WORDS <= len(tokenize(sentence)) <= MAX_WORDS


def real_sentences(corpus: Corpus) -> list[str]:
    """Test-split sentences of the right length, first copy of each (case and spacing ignored)."""
    seen, kept = set(), []
    for sentence in corpus.sentences("test"):
        sentence = normalise(sentence)
        key = " ".join(tokenize(sentence))
        if key not in seen and word_count_in_range(sentence):
            seen.add(key)
            kept.append(sentence)
    return kept


def build_deck(corpus: Corpus) -> Deck:
    vocabulary: set[str] = set()
    hashes = []
    for document in corpus.split("train"):
        words = tokenize(document)
        vocabulary.update(words)
        hashes.append(span_hashes(words))
    spans = np.unique(np.concatenate(hashes)) if hashes else np.empty(0, dtype=np.int64)
    prefixes = frozenset(word[:i] for word in vocabulary for i in range(1, len(word) + 1))
    return Deck(corpus.name, real_sentences(corpus), frozenset(vocabulary), spans, prefixes)


# ---------------------------------------------------------------- fakes

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

    def __init__(self, lm: LanguageModel, prefixes: frozenset[str], words: frozenset[str]):
        self.chars = lm.vocab.chars
        self.prefixes, self.words = prefixes, words
        self.word_char = torch.tensor([is_word_char(c) for c in self.chars])
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


@dataclass
class FilterCounts:
    """How many sampled sentences each filter turned away (the first failing filter counts)."""

    sampled: int = 0
    unfinished: int = 0  # the sample ran out before the sentence ended
    length: int = 0
    unknown_word: int = 0
    copied: int = 0
    passed: int = 0
    kept: int = 0  # after best-of-n

    def add(self, other: FilterCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


_SENTENCE_ENDING = re.compile(r"[.!?][\"')\]]*$")


def rejection_reason(sentence: str, deck: Deck) -> str | None:
    """Which filter a sampled sentence fails (a FilterCounts field name), or None if it passes."""
    if not _SENTENCE_ENDING.search(sentence):
        return "unfinished"
    words = tokenize(sentence)
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return "length"
    if any(w not in deck.training_vocabulary for w in words):
        return "unknown_word"
    if deck.has_copied_span(words):
        return "copied"
    return None


@dataclass(frozen=True)
class Fake:
    text: str
    nats_per_char: float  # the model's own surprise at it (temperature 1)


def generate_fakes(lm: LanguageModel, deck: Deck, difficulty: Difficulty, streams: int = 32,
                   seed: int = 0, best_of: int = BEST_OF, counts: FilterCounts | None = None) -> list[Fake]:
    """One batch of sampled documents -> the fakes that survive the filters and best-of-n.

    Sentences are cut from whole sampled documents (after the first, they start mid-text as
    real test sentences do); the last one of a sample may be unfinished and is dropped.
    """
    counts = counts if counts is not None else FilterCounts()
    survivors = []
    constraint = KnownWordsOnly(lm, deck.word_prefixes, deck.training_vocabulary)
    for sample in sample_batch(lm, streams, SAMPLE_LENGTH, difficulty.temperature, seed=seed,
                               constraint=constraint, should_stop=_shutting_down.is_set):
        for sentence in split_sentences(normalise(sample)):
            counts.sampled += 1
            reason = rejection_reason(sentence, deck)
            if reason is None:
                counts.passed += 1
                survivors.append(sentence)
            else:
                setattr(counts, reason, getattr(counts, reason) + 1)
    fakes = []
    for start in range(0, len(survivors) - best_of + 1, best_of):
        scored = [Fake(s, lm.score(s).nats_per_char) for s in survivors[start:start + best_of]]
        fakes.append(min(scored, key=lambda fake: fake.nats_per_char))
    counts.kept += len(fakes)
    return fakes


# Background samplers must be stopped before the interpreter exits: a torch computation still
# running in a daemon thread at shutdown aborts the process.
_shutting_down = threading.Event()
_producers: list[threading.Thread] = []


@atexit.register
def _stop_producers() -> None:
    _shutting_down.set()
    for thread in list(_producers):
        thread.join(timeout=30)


class FakePool:
    """Fakes of one deck and difficulty, made ahead of time by a background thread.

    Players share the pool: a game draws fakes at random (without repeats inside the game), so
    thirty players starting together wait for nobody. The pool grows to ``capacity``, then the
    thread rests. If a game needs more fakes than are ready, the caller makes them itself.
    """

    def __init__(self, lm: LanguageModel, deck: Deck, difficulty: Difficulty,
                 capacity: int = 200, ahead: int = 30, streams: int = 32, seed: int = 0):
        self.lm, self.deck, self.difficulty = lm, deck, difficulty
        self.capacity, self.ahead, self.streams = capacity, ahead, streams
        self.handed_out = 0
        self.counts = FilterCounts()
        self._fakes: list[Fake] = []
        self._texts: set[str] = set()
        self._lock = threading.Lock()
        self._next_seed = seed
        self._thread: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._fakes)

    def fakes(self) -> list[Fake]:
        with self._lock:
            return list(self._fakes)

    def produce_once(self) -> int:
        """Sample one batch and add its new fakes; returns how many were added."""
        with self._lock:
            seed, self._next_seed = self._next_seed, self._next_seed + 1
        counts = FilterCounts()
        fakes = generate_fakes(self.lm, self.deck, self.difficulty, self.streams, seed, counts=counts)
        with self._lock:
            self.counts.add(counts)
            new = [f for f in fakes if f.text not in self._texts]
            self._fakes.extend(new)
            self._texts.update(f.text for f in new)
        return len(new)

    def start(self) -> None:
        """Fill the pool in a daemon thread (idempotent)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._fill, name=f"fakes-{self.deck.name}-{self.difficulty.name}",
                                            daemon=True)
            self._thread.start()
            _producers[:] = [t for t in _producers if t.is_alive()] + [self._thread]

    @property
    def target(self) -> int:
        """How many fakes to have ready: a head start, growing as games draw on the pool."""
        return min(self.capacity, self.ahead + 2 * self.handed_out)

    def _fill(self) -> None:
        misses = 0  # batches in a row that added nothing: the model has run dry
        while len(self) < self.target and misses < 50 and not _shutting_down.is_set():
            misses = 0 if self.produce_once() else misses + 1

    def take(self, count: int, rng: random.Random, max_batches: int = 200) -> list[Fake]:
        """count distinct fakes at random; made here and now if the pool is short."""
        for _ in range(max_batches):
            if len(self) >= count:
                break
            self.produce_once()
        with self._lock:
            fakes = list(self._fakes)
            if len(fakes) < count:
                raise RuntimeError(f"the {self.deck.name} model wrote only {len(fakes)} usable fakes")
            self.handed_out += count
        return rng.sample(fakes, count)


# ---------------------------------------------------------------- decks on offer

def deck_corpus(bundle: str) -> str | None:
    """The corpus (name or path) a bundle's LM was trained on, if it can be read here."""
    if bundle == WIKI:
        return WIKI
    if bundle == FASHION:
        return FASHION if fashion_corpus_path().is_file() else None
    card = store.artifact_card(bundle, "lm").get("corpus") or {}
    path = card.get("path")  # user corpora: only playable while their file is where it was
    return path if path and Path(path).is_file() else None


def playable_decks(bundles: list[str]) -> tuple[list[str], list[str]]:
    """(bundles with an LM and a readable corpus, notices about the ones left out)."""
    playable, notices = [], []
    for bundle in bundles:
        if deck_corpus(bundle) is not None:
            playable.append(bundle)
        elif bundle == FASHION:
            notices.append(f"The fashion-reviews deck needs its corpus file, which is not at {fashion_corpus_path()}. "
                           f"Get \"Women's E-Commerce Clothing Reviews\" (CC0, Kaggle), file {FASHION_FILE}, and "
                           f"set {FASHION_ENV} to its path. Meanwhile, play the {WIKI} deck.")
    return playable, notices


class GameSupply:
    """Everything one deck's games draw on, shared by all players of a process.

    ``warm`` returns at once: the deck (corpus read, vocabulary, copy index) is built and the
    difficulty's fake pool starts filling in a background thread. ``new_game`` waits for them.
    """

    def __init__(self, lm: LanguageModel, corpus: str, pool_capacity: int = 200):
        self.lm, self.corpus, self.pool_capacity = lm, corpus, pool_capacity
        self._deck: Deck | None = None
        self._deck_ready = threading.Event()
        self._deck_error: Exception | None = None
        self._pools: dict[str, FakePool] = {}
        self._lock = threading.Lock()
        self._builder: threading.Thread | None = None
        self._warming: set[str] = set()
        self._real_average: float | None = None
        self._average_lock = threading.Lock()  # the first reveals of a room arrive together

    def _build_deck(self) -> None:
        try:
            self._deck = build_deck(load_corpus(self.corpus))
        except Exception as e:  # noqa: BLE001 - handed to whoever waits for the deck
            self._deck_error = e
        finally:
            self._deck_ready.set()
        if self._deck is not None:
            self.real_average()  # measured now, so the first reveal does not wait for it

    def _start_building(self) -> None:
        with self._lock:
            if self._builder is None:
                self._builder = threading.Thread(target=self._build_deck, name=f"deck-{self.corpus}", daemon=True)
                self._builder.start()

    def warm(self, difficulty: str) -> None:
        """Start building the deck and filling this difficulty's pool; never blocks."""
        self._start_building()
        with self._lock:
            if difficulty in self._warming:
                return
            self._warming.add(difficulty)
        threading.Thread(target=lambda: self.pool(difficulty).start(), daemon=True).start()

    def deck(self) -> Deck:
        """The deck, waiting for it to be built if need be (re-raises what building raised)."""
        self._start_building()
        self._deck_ready.wait()
        if self._deck_error is not None:
            raise self._deck_error
        return self._deck

    def pool(self, difficulty: str) -> FakePool:
        deck = self.deck()
        with self._lock:
            if difficulty not in self._pools:
                self._pools[difficulty] = FakePool(self.lm, deck, DIFFICULTIES[difficulty], self.pool_capacity)
            return self._pools[difficulty]

    def ready_fakes(self, difficulty: str) -> int:
        """How many fakes are waiting (0 while the deck is still being read)."""
        if not self._deck_ready.is_set():
            return 0
        with self._lock:
            pool = self._pools.get(difficulty)
        return len(pool) if pool else 0

    def new_game(self, difficulty: str, mode: str, rng: random.Random) -> Game:
        pool = self.pool(difficulty)
        game = new_game(self.deck(), pool, mode, rng)
        pool.start()  # keep making fresh fakes for the next players
        return game

    def real_average(self) -> float:
        """Mean nats/char of real test sentences: the yardstick shown in every reveal."""
        with self._average_lock:
            if self._real_average is None:
                self._real_average = average_nats_per_char(self.lm, self.deck().real_sentences)
            return self._real_average


# ---------------------------------------------------------------- rounds and games

@dataclass(frozen=True)
class Sentence:
    text: str
    real: bool

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]


@dataclass
class Answer:
    picked: int  # which sentence the guess is about (always 0 in single mode)
    says_real: bool  # single mode: "human" or "LSTM"; pair mode: always True ("this one is real")
    confidence: str
    correct: bool
    points: int
    answered_at: float = field(default_factory=time.time)


def points_for(correct: bool, confidence: str) -> int:
    if confidence not in POINTS:
        raise ValueError(f"confidence must be one of {CONFIDENCES}, not {confidence!r}")
    right, wrong = POINTS[confidence]
    return right if correct else wrong


@dataclass
class Round:
    sentences: list[Sentence]  # one (single mode) or two, one real and one fake (pair mode)
    answer: Answer | None = None

    def judge(self, picked: int, says_real: bool, confidence: str) -> Answer:
        """Record the player's guess about sentences[picked] and score it (once)."""
        if self.answer is not None:
            return self.answer
        correct = self.sentences[picked].real == says_real
        self.answer = Answer(picked, says_real, confidence, correct, points_for(correct, confidence))
        return self.answer

    @property
    def fake(self) -> Sentence | None:
        return next((s for s in self.sentences if not s.real), None)

    def stored_answer(self) -> tuple[Sentence, str, str]:
        """(sentence, truth, guess) to store: in pair mode, what the player made of the fake,
        so the room's fooled-rate (fakes taken for human) reads the same in both modes."""
        assert self.answer is not None
        if len(self.sentences) == 1:
            sentence = self.sentences[0]
            return sentence, label(sentence.real), label(self.answer.says_real)
        fake = self.fake
        fooled = not self.answer.correct
        return fake, LSTM, HUMAN if fooled else LSTM


def label(real: bool) -> str:
    return HUMAN if real else LSTM


@dataclass
class Game:
    deck: str
    difficulty: str
    mode: str
    rounds: list[Round]
    started_at: float = field(default_factory=time.time)

    @property
    def current(self) -> int | None:
        """Index of the first unanswered round; None when the game is over."""
        return next((i for i, r in enumerate(self.rounds) if r.answer is None), None)

    @property
    def finished(self) -> bool:
        return self.current is None

    @property
    def answered(self) -> list[Round]:
        return [r for r in self.rounds if r.answer is not None]

    @property
    def score(self) -> int:
        return sum(r.answer.points for r in self.answered)

    @property
    def correct(self) -> int:
        return sum(r.answer.correct for r in self.answered)

    @property
    def accuracy(self) -> float:
        return self.correct / len(self.answered) if self.answered else 0.0

    def summary_rows(self) -> list[dict]:
        rows = []
        for number, r in enumerate(self.answered, 1):
            judged = r.sentences[r.answer.picked]
            rows.append({"round": number, "sentence you judged": judged.text,
                         "it was": "human" if judged.real else "LSTM",
                         "you said": "human" if r.answer.says_real else "LSTM",
                         "confidence": r.answer.confidence, "right": r.answer.correct,
                         "points": r.answer.points})
        return rows


def new_game(deck: Deck, pool: FakePool, mode: str, rng: random.Random,
             rounds: int = ROUNDS_PER_GAME) -> Game:
    """A fresh game. Single mode: half the rounds real, half fake, shuffled; pair mode: a real
    and a fake in every round, in random order."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, not {mode!r}")
    fakes_needed = rounds if mode == "pair" else rounds // 2
    reals_needed = rounds if mode == "pair" else rounds - fakes_needed
    fakes = [Sentence(f.text, real=False) for f in pool.take(fakes_needed, rng)]
    reals = [Sentence(t, real=True) for t in rng.sample(deck.real_sentences, reals_needed)]
    if mode == "pair":
        game_rounds = [Round(rng.sample([real, fake], 2)) for real, fake in zip(reals, fakes, strict=True)]
    else:
        sentences = reals + fakes
        rng.shuffle(sentences)
        game_rounds = [Round([s]) for s in sentences]
    return Game(deck.name, pool.difficulty.name, mode, game_rounds)


# ---------------------------------------------------------------- the reveal

@dataclass
class Reveal:
    """The model's view of a sentence: GLTR colours and how surprised it was overall."""

    by_character: list[Piece]
    by_word: list[Piece]
    nats_per_char: float
    rank_counts: dict[str, int]  # characters per GLTR bucket


def reveal(lm: LanguageModel, text: str) -> Reveal:
    score = lm.score(text)
    by_character = []
    for char, rank, log_p in zip(text, score.ranks.tolist(), score.log_probs.tolist(), strict=True):
        bucket, colour = rank_bucket(rank)
        by_character.append(Piece(char, colour, f"{char!r}: the model's guess #{rank} ({bucket}), P = {np.exp(log_p):.3f}"))
    by_word = []
    position = 0
    for match in re.finditer(r"\S+", text):
        if match.start() > position:
            by_word.append(Piece(text[position:match.start()], "transparent"))
        ranks = score.ranks[match.start():match.end()]
        word_log_p = float(score.log_probs[match.start():match.end()].sum())
        hardest = int(ranks.max())
        bucket, colour = rank_bucket(hardest)
        by_word.append(Piece(match.group(), colour,
                             f"hardest character was the model's guess #{hardest} ({bucket}); "
                             f"P(word) = {np.exp(word_log_p):.2g}"))
        position = match.end()
    if position < len(text):
        by_word.append(Piece(text[position:], "transparent"))
    rank_counts = Counter(rank_bucket(r)[0] for r in score.ranks.tolist())
    return Reveal(by_character, by_word, score.nats_per_char, dict(rank_counts))


def average_nats_per_char(lm: LanguageModel, sentences: list[str], limit: int = 200) -> float:
    """Mean nats/char over (up to limit of) sentences, weighting each sentence equally."""
    sample = sentences[:limit]
    return float(np.mean([lm.score(s).nats_per_char for s in sample])) if sample else float("nan")
