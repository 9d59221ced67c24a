"""Fake or real? The guessing game: difficulties, the supply of sentences, rounds, points, the reveal.

A game deals real sentences from the corpus's TEST split (the model never trained on them) and
fakes the LSTM wrote. For the committed models the fakes come from stored decks, written and
chosen at training time (``app/game/decks.py``): dealing is instant and no text is generated while
serving. A model trained in the app has no stored deck: its fakes are written live, in the
background, by a ``FakePool`` (``app/game/fakes.py``).

A difficulty is a deck, named by how detectable it is, as measured (``app/game/detectors.py``):
"hard" is the deck of the shortest sentences, its fakes and its real sentences chosen to meet in
the middle (``decks.choose``). Everything else
here is plain data: a ``Game`` is a list of ``Round``s, each answered with a guess and a
confidence.
"""

from __future__ import annotations

import hashlib
import queue
import random
import re
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np

from app.catalog import user_bundles
from app.catalog.resident import kept_for_good
from app.data.corpus import FASHION, FASHION_ENV, FASHION_FILE, WIKI, fashion_corpus_path, load_corpus
from app.game import decks
from app.game.fakes import FakePool, TrainingText, background, shutting_down
from app.lessons.highlight import Piece, rank_bucket
from app.lm.char_lstm import LanguageModel, TextScore
from app.storage import store

ROUNDS_PER_GAME = 10


# ---------------------------------------------------------------- settings players choose

@dataclass(frozen=True)
class Difficulty:
    name: str
    description: str  # what the deck is, in a player's words
    chosen_by: str  # how its fakes were written and chosen (app/game/decks.py PLANS)


# From the most detectable deck to the least (bench/detectability.py and bench/blind_read.py measure them).
DIFFICULTIES = {
    "easy": Difficulty("easy", decks.DIFFICULTY_CARD["easy"],
                       "8-30 words sampled at temperature 1, from the third of the samples whose likelihood profile "
                       "is least like people's, matched to real sentences in surface habits"),
    "normal": Difficulty("normal", decks.DIFFICULTY_CARD["normal"],
                         "{}-{} words by nucleus sampling (top-p 0.8), only those a word trigram and the word LSTM read "
                         "as fluently as {:.0%} of people's sentences, adversarial filtering, then the fakes and the real "
                         "sentences dealt beside them chosen to meet in surface habits, the whole likelihood profile, "
                         "fluency and what the words mean".format(*decks.PLANS["normal"].words,
                                                                  decks.PLANS["normal"].fluency_floor)),
    "hard": Difficulty("hard", decks.DIFFICULTY_CARD["hard"],
                       "as normal, in sentences of {}-{} words above a floor at {:.0%}, and the reals dealt matched to the "
                       "fakes' style too".format(*decks.PLANS["hard"].words, decks.PLANS["hard"].fluency_floor)),
}
DEFAULT_DIFFICULTY = "normal"
MODES = {"single": "Human or LSTM?", "pair": "Which is real?"}
HUMAN, LSTM = "human", "lstm"

# (points when right, points when wrong). Being sure pays more and costs more: it is worth
# saying "sure" only when you are right more than 2 times in 3 (2p - 3(1 - p) > p - (1 - p)).
POINTS = {"think so": (1, -1), "sure": (2, -3)}
CONFIDENCES = tuple(POINTS)


# ---------------------------------------------------------------- bundles on offer

def bundle_corpus(bundle: str) -> str | None:
    """The corpus (name or path) a bundle's LM was trained on, if it can be read here."""
    if bundle == WIKI:
        return WIKI
    if bundle == FASHION:
        return FASHION if fashion_corpus_path().is_file() else None
    kept = user_bundles.corpus_path(bundle)  # a user bundle keeps its corpus (sha256-checked)
    return str(kept) if kept else None


def playable_bundles(bundles: list[str]) -> tuple[list[str], list[str]]:
    """(bundles with an LM and a readable corpus, notices about the ones left out)."""
    playable, notices = [], []
    for bundle in bundles:
        unplayable = store.cached_manifest(bundle)["artifacts"].get("lm", {}).get("quiz_problem") \
            if store.is_user_bundle(bundle) else None  # recorded by its training (app/training/user_jobs.py)
        if unplayable:
            notices.append(f"{bundle} is not offered: {unplayable}, and the game tells sentences apart word by word.")
        elif bundle_corpus(bundle) is not None:
            playable.append(bundle)
        elif bundle == FASHION:
            notices.append(f"The fashion-reviews model needs its corpus file, which is not at {fashion_corpus_path()}. "
                           f"Get \"Women's E-Commerce Clothing Reviews\" (CC0, Kaggle), file {FASHION_FILE}, and "
                           f"set {FASHION_ENV} to its path. Meanwhile, play the {WIKI} model.")
    return playable, notices


class GameSupply:
    """Everything one bundle's games draw on, shared by all players of a process.

    Fakes are dealt round-robin from a shuffled order of each stored deck (``decks.Dealer``), so a
    room's players see different sentences; real sentences are dealt matched one by one to the
    dealt fakes' word counts, from the test sentences the deck plays (``decks.MatchedDealer``).
    ``warm`` returns at once and reads the corpus in a background thread; ``deal_game`` waits
    for it. Reveals are computed once per sentence, in the background right after a deal.
    """

    def __init__(self, bundle: str, lm: LanguageModel, corpus: str, stored: dict[str, decks.StoredDecks] | None = None,
                 real_average: float | None = None):
        self.bundle, self.lm, self.corpus = bundle, lm, corpus
        self.stored = stored or {}  # writer -> its stored decks
        self._real_average = real_average
        self._reals: decks.MatchedDealer | None = None  # every real test sentence of quiz length
        self._deck_reals: dict[tuple[str, str], decks.MatchedDealer] = {}  # those each stored deck plays
        self._fakes: dict[tuple[str, str], decks.Dealer] = {}
        self._pool: FakePool | None = None  # live fakes, for a bundle without stored decks
        self._ready = threading.Event()
        self._error: Exception | None = None
        self._lock = threading.Lock()
        self._average_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._reveals: OrderedDict[str, Reveal] = OrderedDict()  # the most recently used last
        self._reveals_lock = threading.Lock()
        self._to_reveal: queue.Queue[list[str]] = queue.Queue()
        self._revealer: threading.Thread | None = None

    @classmethod
    def of(cls, bundle: str, lm: LanguageModel) -> GameSupply:
        """A bundle's supply, with its stored decks (those chosen with the LM it serves now)."""
        stored = {w: d for w in decks.stored_writers(bundle) if (d := decks.load_stored_decks(bundle, w))}
        average = next((d.real_average for d in stored.values() if d.real_average is not None), None)
        return cls(bundle, lm, bundle_corpus(bundle), stored, average)

    @property
    def writers(self) -> list[str]:
        return list(self.stored) or [decks.CHAR_LSTM]

    def _read(self) -> None:
        try:
            corpus = load_corpus(self.corpus)
            self._reals = decks.MatchedDealer(decks.real_sentences(corpus, "test"))
            if not self.stored:  # live fakes need the filters' view of the training split
                self._pool = FakePool(self.lm, TrainingText.of(corpus), name=corpus.name)
                self._pool.start()
        except Exception as e:  # noqa: BLE001 - handed to whoever waits for the sentences
            self._error = e
        finally:
            self._ready.set()
        if self._error is None:
            self.real_average()  # measured now (without stored decks), so the first reveal does not wait for it
            kept_for_good(self._reals)  # the real sentences live as long as the server

    def warm(self) -> None:
        """Start reading the corpus (and writing live fakes if need be); never blocks."""
        with self._lock:
            if self._reader is None:
                self._reader = background(self._read, f"reals-{self.corpus}")

    def wait(self) -> None:
        """Until the real sentences are ready (re-raises what reading the corpus raised)."""
        self.warm()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def ready(self) -> bool:
        return self._ready.is_set() and self._error is None

    def fake_dealer(self, writer: str, difficulty: str) -> decks.Dealer | None:
        if writer not in self.stored:
            return None
        with self._lock:
            key = (writer, difficulty)
            if key not in self._fakes:
                self._fakes[key] = decks.Dealer(self.stored[writer].texts(difficulty))
            return self._fakes[key]

    def real_dealer(self, writer: str, difficulty: str) -> decks.MatchedDealer:
        """The real sentences a deck plays (its lengths, its writer's vocabulary); all of them
        for live fakes."""
        if writer not in self.stored:
            return self._reals
        with self._lock:
            key = (writer, difficulty)
            if key not in self._deck_reals:
                self._deck_reals[key] = decks.MatchedDealer(self.stored[writer].reals(difficulty, self._reals.items))
            return self._deck_reals[key]

    def deal_fakes(self, count: int, difficulty: str, writer: str, rng: random.Random) -> list[str]:
        dealer = self.fake_dealer(writer, difficulty)
        if dealer is not None:
            return dealer.deal(count)
        if self._pool is None:
            raise RuntimeError(f"no stored {writer} deck for this model and no live writer")
        return self._pool.take(count, rng)

    def deal_game(self, difficulty: str, mode: str, rng: random.Random, writer: str = decks.CHAR_LSTM) -> Game:
        """A new game of this bundle: real sentences and fakes dealt from the shared dealers (build_game)."""
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be one of {list(DIFFICULTIES)}, not {difficulty!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {list(MODES)}, not {mode!r}")
        self.wait()
        fakes_needed = ROUNDS_PER_GAME if mode == "pair" else ROUNDS_PER_GAME // 2
        reals_needed = ROUNDS_PER_GAME if mode == "pair" else ROUNDS_PER_GAME - fakes_needed
        fakes = self.deal_fakes(fakes_needed, difficulty, writer, rng)
        # single mode deals as many reals as fakes, each as long as one of them
        reals = self.real_dealer(writer, difficulty).deal_like((fakes * 2)[:reals_needed])
        game = build_game(reals, fakes, mode, rng, difficulty, writer, self.bundle)
        self._reveal_ahead([s.text for r in game.rounds for s in r.sentences])  # ready before the first answer
        return game

    REVEALS_KEPT = 3000  # the most recently shown reveals kept per process (about 1 MB per 100)

    def reveals(self, texts: list[str]) -> list[Reveal]:
        """reveal() of each text, each computed once per process (all texts of a call in one batch)."""
        with self._reveals_lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._reveals]
        fresh = dict(zip(missing, map(reveal_of, self.lm.score_batch(missing)), strict=True)) if missing else {}
        with self._reveals_lock:
            self._reveals.update(fresh)
            shown = [fresh.get(t) or self._reveals.get(t) for t in texts]
            for text in texts:
                self._reveals.move_to_end(text)
            while len(self._reveals) > self.REVEALS_KEPT:
                self._reveals.popitem(last=False)
        return shown

    def _reveal_ahead(self, texts: list[str]) -> None:
        """Queue a game's sentences for one background thread, which scores what piled up in one
        batch: a room's hundred New games cost a few batches, not a hundred threads."""
        self._to_reveal.put(texts)
        with self._lock:
            if self._revealer is None or not self._revealer.is_alive():
                self._revealer = background(self._reveal_queued, "reveals")

    def _reveal_queued(self) -> None:
        idle = 0
        while not shutting_down():
            try:
                texts = self._to_reveal.get(timeout=0.5)
            except queue.Empty:
                idle += 1
                if idle == 10:
                    return  # idle for 5 s: the thread ends; the next deal starts another
                continue
            idle = 0
            while not self._to_reveal.empty():
                texts += self._to_reveal.get_nowait()
            self.reveals(texts)

    def real_average(self) -> float:
        """Mean nats/char of real test sentences: the yardstick shown in every reveal (stored
        with the decks; measured on 200 sentences for a live deck)."""
        if self._real_average is None:
            self.wait()  # (outside the lock: wait() takes self._lock)
            with self._average_lock:  # the first reveals of a room arrive together
                if self._real_average is None:
                    self._real_average = decks.average_nats_per_char(self.lm, self._reals.items)
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
    bundle: str  # the model (bundle) whose fakes and reals are played
    difficulty: str
    mode: str
    rounds: list[Round]
    started_at: float = field(default_factory=time.time)
    writer: str = decks.CHAR_LSTM  # who wrote the fakes (decks.WRITERS)

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


def build_game(reals: list[str], fakes: list[str], mode: str, rng: random.Random, difficulty: str = DEFAULT_DIFFICULTY,
               writer: str = decks.CHAR_LSTM, bundle: str = "") -> Game:
    """A game of the dealt sentences. Single mode: one sentence a round, reals and fakes
    shuffled together; pair mode: a real and a fake in every round, in random order."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}, not {mode!r}")
    real = [Sentence(t, real=True) for t in reals]
    fake = [Sentence(t, real=False) for t in fakes]
    if mode == "pair":
        game_rounds = [Round(rng.sample([r, f], 2)) for r, f in zip(real, fake, strict=True)]
    else:
        sentences = real + fake
        rng.shuffle(sentences)
        game_rounds = [Round([s]) for s in sentences]
    return Game(bundle, difficulty, mode, game_rounds, writer=writer)


# ---------------------------------------------------------------- the reveal

@dataclass
class Reveal:
    """The model's view of a sentence: GLTR colours and how surprised it was overall."""

    by_character: list[Piece]
    by_word: list[Piece]
    nats_per_char: float
    rank_counts: dict[str, int]  # characters per GLTR bucket


def reveal(lm: LanguageModel, text: str) -> Reveal:
    return reveal_of(lm.score(text))


def reveal_of(score: TextScore) -> Reveal:
    """The reveal of a scored text (``GameSupply.reveals`` scores a game's sentences in one batch)."""
    text = score.text
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
