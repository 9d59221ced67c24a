"""Stored decks: fakes chosen so their likelihood profile matches people's, written at training time.

``python -m app.training --corpus fashion-reviews --only decks`` runs ``prepare_decks`` then
``write_decks``:

1. Candidates: the writer (the char-LSTM at temperature 1, ``app/game/fakes.py``) samples until
   ``candidates`` sentences pass the filters. Each batch is appended to a JSON-lines checkpoint
   (``checkpoints/<bundle>/decks-<writer>.jsonl``), so an interrupted run keeps what it wrote.
2. Features: the project's LM scores every candidate and every real VALIDATION sentence: its
   per-character log-prob mean, spread and minimum and its GLTR rank fractions ("profile"),
   next to surface habits (length, first-letter case, final punctuation, digits, apostrophes,
   commas).
3. Selection, one deck per difficulty: a logistic regression tells real validation sentences
   from candidates on that difficulty's features; its odds p/(1-p) estimate the density ratio
   real/fake, and each candidate is accepted with probability min(1, ratio / c) (rejection
   sampling towards the real distribution; c is set so about ``DECK_SIZE`` are accepted).
   "normal" matches the surface and the mean log-prob (likelihood-matched rejection), "hard"
   the whole profile; "easy" draws, surface-matched, from the third of the candidates whose
   likelihood profile is least like people's (so the decks differ in how detectable they are).
   The features are cached next to the checkpoint: choosing again costs seconds.
4. The decks go into ``model_store/<bundle>/fakes-<writer>.json`` (JSON, no pickle), with the
   sha256 of the LM that scored them, and into the manifest with their metrics.

How detectable each deck is, is measured on the TEST split by detectors that took no part in
choosing (``app/game/detectors.py``); the selection only ever sees validation sentences.
The game deals from the stored decks (``Dealer``): no text generation while serving.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from app.data.corpus import Corpus, normalise, tokenize
from app.game.fakes import (
    MAX_WORDS,
    MIN_WORDS,
    TEMPERATURE,
    FilterCounts,
    TrainingText,
    is_complete_sentence,
    sample_sentences,
    sentence_key,
)
from app.lm.char_lstm import LanguageModel, TextScore
from app.storage import store

CHAR_LSTM, WORD_LSTM = "char-lstm", "word-lstm"
WRITERS = {CHAR_LSTM: "the character LSTM", WORD_LSTM: "the word LSTM"}
DECK_SIZE = 600  # fakes per difficulty (at least MIN_DECK_SIZE are kept)
MIN_DECK_SIZE = 500
CANDIDATES = 8000  # filtered samples to choose from: over ten per fake dealt
# The small wiki-sample model passes its filters half as often, and its test split holds about 800
# real sentences to match: half as many candidates do.
CANDIDATES_OF = {"wiki-sample": 4000}

# What each difficulty's selection matches to real sentences (feature groups, see features()).
SELECTIONS = {"easy": ("surface",), "normal": ("surface", "likelihood"),
              "hard": ("surface", "likelihood", "profile", "meaning")}
FULL_PROFILE = ("surface", "likelihood", "profile")
EASY_FROM = 1 / 3  # easy draws from this least people-like fraction of the candidates
# Adversarial filtering (Zellers et al. 2018) of normal's and hard's candidates: each round, a
# discriminator cross-fitted on real validation sentences against the surviving candidates (every
# feature group, meaning included) scores each candidate out of fold; the AF_DROP most clearly fake go.
AF_ROUNDS, AF_DROP = 3, 0.3
# Careful blind readers (bench/blind_read.py --score) on the decks as they are stored now, by
# (bundle, writer, difficulty): {"accuracy": right share, "readers": how many, "sentences": read in
# all}. write_decks puts them on the deck's card, the game shows them after a reveal. Figures of
# earlier decks do not carry over: a deck chosen again starts unmeasured until readers read it.
READER_BENCHMARKS: dict[tuple[str, str, str], dict] = {
    # 2026-12-02: three readers, a fresh sheet each (40 normal + 40 hard + 10 word-LSTM normal sentences)
    ("fashion-reviews", CHAR_LSTM, "normal"): {"accuracy": 0.958, "readers": 3, "sentences": 120},
    ("fashion-reviews", CHAR_LSTM, "hard"): {"accuracy": 0.925, "readers": 3, "sentences": 120},
    ("fashion-reviews", WORD_LSTM, "normal"): {"accuracy": 0.867, "readers": 3, "sentences": 30},
}
# What each difficulty is, in a player's words (the deck card; docs/fakes.md).
DIFFICULTY_CARD = {
    "easy": "fakes the model itself finds least like people's writing: the odd phrasing shows",
    "normal": "fakes that survived three rounds of a machine trying to catch them, as surprising to the model "
              "as people's sentences",
    "hard": "the survivors whose word choice, how related their words are, and whole likelihood profile "
            "match people's sentences",
}


# ---------------------------------------------------------------- real sentences

def real_sentences(corpus: Corpus, split: str = "test") -> list[str]:
    """Complete sentences of the split, 8-30 words, first copy of each, as the source writes them.

    Complete: ending in . ! or ? (a review's last line may stop mid-word; fakes end so too).
    """
    seen, kept = set(), []
    for sentence in corpus.sentences(split):
        sentence = normalise(sentence)
        key = sentence_key(sentence)
        if key not in seen and is_complete_sentence(sentence) and MIN_WORDS <= len(key.split()) <= MAX_WORDS:
            seen.add(key)
            kept.append(sentence)
    return kept


def average_nats_per_char(lm: LanguageModel, sentences: list[str], limit: int = 200) -> float:
    """Mean nats/char over (up to limit of) sentences, weighting each sentence equally: the
    yardstick of the reveal ("more or less surprising than the average real sentence")."""
    sample = sentences[:limit]
    return float(np.mean([s.nats_per_char for s in lm.score_batch(sample)])) if sample else float("nan")


# ---------------------------------------------------------------- features

SURFACE = ("words", "first letter upper", "ends with !", "ends with ?", "has a digit", "has an apostrophe",
           "commas per word")
PROFILE = ("log-prob mean", "log-prob std", "log-prob min", "rank 1", "rank 2-10", "rank > 100")


def surface_features(texts: list[str]) -> np.ndarray:
    """(n, len(SURFACE)): the habits a reader sees at a glance."""
    rows = []
    for text in texts:
        words = max(1, len(tokenize(text)))
        end = text.rstrip("\"')]")[-1:]
        rows.append([words, text[:1].isupper(), end == "!", end == "?", any(c.isdigit() for c in text),
                     "'" in text, text.count(",") / words])
    return np.array(rows, dtype=np.float64).reshape(-1, len(SURFACE))


def profile_features(scores: list[TextScore]) -> np.ndarray:
    """(n, len(PROFILE)): per-character log-prob mean, std and min, GLTR rank fractions."""
    rows = []
    for s in scores:
        lp, ranks = s.log_probs.astype(np.float64), s.ranks
        rows.append([lp.mean(), lp.std(), lp.min(), np.mean(ranks == 1), np.mean((ranks > 1) & (ranks <= 10)),
                     np.mean(ranks > 100)])
    return np.array(rows, dtype=np.float64).reshape(-1, len(PROFILE))


def features(surface: np.ndarray, profile: np.ndarray, groups: tuple[str, ...],
             meaning: np.ndarray | None = None) -> np.ndarray:
    """The columns a selection matches, with squares of the continuous ones (so a logistic
    regression matches spreads, not only means). meaning: what words mean and how rare they are
    (``Meaning``, from ``app/game/detectors.py``'s statistics), when the bundle has word vectors."""
    columns = []
    if "surface" in groups:
        columns += [surface, surface[:, [0]] ** 2, surface[:, [6]] ** 2]
    if "likelihood" in groups:
        columns += [profile[:, [0]], profile[:, [0]] ** 2]
    if "profile" in groups:
        columns += [profile[:, 1:], profile[:, 1:3] ** 2, profile[:, [0]] * profile[:, [1]]]
    if "meaning" in groups and meaning is not None:
        columns += [meaning]
    return np.hstack(columns)


# ---------------------------------------------------------------- selection

def density_ratio(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """Estimated p_real(x) / p_fake(x) at each fake, from a balanced logistic regression."""
    # Every server imports this module (app.game.quiz deals the stored decks); only training chooses decks:
    # imported here, scikit-learn (about 1.5 s to import) is kept out of the app's start-up.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([real, fake])
    y = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced"))
    model.fit(x, y)
    return np.exp(model.decision_function(fake))  # the odds: the ratio up to a constant


def rejection_sample(ratio: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices accepted with probability min(1, ratio / c), c chosen so about ``size`` pass."""
    low, high = 1e-12, float(ratio.max()) * 2
    for _ in range(100):  # bisection on c: sum(min(1, ratio / c)) decreases as c grows
        c = np.sqrt(low * high)
        if np.minimum(1, ratio / c).sum() > size:
            low = c
        else:
            high = c
    accepted = np.flatnonzero(rng.random(len(ratio)) < np.minimum(1, ratio / high))
    return np.sort(accepted)


LENGTH_BANDS = (12, 16, 21)  # word counts where a band starts (8-11, 12-15, 16-20, 21-30)


def adversarial_filter(real: np.ndarray, fake: np.ndarray, words: np.ndarray, rounds: int = AF_ROUNDS,
                       drop: float = AF_DROP, seed: int = 0) -> np.ndarray:
    """Indices of the fakes that survive ``rounds`` of adversarial filtering: each round a gradient-
    boosted discriminator, cross-fitted (5 folds: no candidate is scored by a model trained on it),
    scores every surviving candidate, and the ``drop`` share it finds most clearly fake goes, in
    each length band apart (short sentences are harder to catch: survivors keep the candidates'
    lengths, which the selection then matches to people's). words: each fake's word count."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # training only: see density_ratio
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    kept = np.arange(len(fake))
    for number in range(rounds):
        x = np.vstack([real, fake[kept]])
        y = np.r_[np.ones(len(real)), np.zeros(len(kept))]
        discriminator = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, class_weight="balanced",
                                                       random_state=seed + number)
        realness = cross_val_predict(discriminator, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=seed + number),
                                     method="decision_function")[len(real):]
        bands = np.digitize(words[kept], LENGTH_BANDS)
        survive = np.zeros(len(kept), dtype=bool)
        for band in np.unique(bands):
            members = np.flatnonzero(bands == band)
            survive[members[np.argsort(-realness[members])[:max(1, int(round(len(members) * (1 - drop))))]]] = True
        kept = kept[survive]
    return kept


def balance_lengths(accepted: np.ndarray, ratio: np.ndarray, words: np.ndarray, real_words: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """accepted (indices into ratio and words) with each length band as common as among the reals:
    a band over its share loses random members, one under it gains its most people-like others
    (the filtering and the meaning features favour short sentences; a reader sees length)."""
    bands, real_bands = np.digitize(words, LENGTH_BANDS), np.digitize(real_words, LENGTH_BANDS)
    kept = []
    for band in range(len(LENGTH_BANDS) + 1):
        target = int(round(len(accepted) * np.mean(real_bands == band)))
        inside = accepted[bands[accepted] == band]
        if len(inside) >= target:
            kept.append(rng.choice(inside, target, replace=False))
        else:
            others = np.setdiff1d(np.flatnonzero(bands == band), inside)
            kept.append(np.r_[inside, others[np.argsort(-ratio[others])][:target - len(inside)]])
    return np.sort(np.concatenate(kept)).astype(int)


def choose(real: dict[str, np.ndarray], fake: dict[str, np.ndarray], size: int = DECK_SIZE,
           seed: int = 0) -> dict[str, list[int]]:
    """For each difficulty, the candidates (indices into fake) its selection accepts.

    real and fake hold "surface" and "profile" feature arrays (``surface_features``,
    ``profile_features``), and "meaning" when the bundle has word vectors: then normal and hard
    choose among the survivors of adversarial filtering."""
    def x(side: dict[str, np.ndarray], groups: tuple[str, ...], rows=slice(None)) -> np.ndarray:
        meaning = side.get("meaning")
        return features(side["surface"][rows], side["profile"][rows], groups,
                        None if meaning is None else meaning[rows])

    full_ratio = density_ratio(x(real, FULL_PROFILE), x(fake, FULL_PROFILE))
    # least like people by the likelihood profile alone: the full ratio over the surface-only one
    # (ranking by the full ratio would pick the shortest sentences, whose length a reader sees)
    likeness = full_ratio / density_ratio(x(real, SELECTIONS["easy"]), x(fake, SELECTIONS["easy"]))
    least_like = np.sort(np.argsort(likeness)[:int(len(likeness) * EASY_FROM)])
    survivors = np.arange(len(full_ratio))
    if fake.get("meaning") is not None:
        survivors = adversarial_filter(x(real, SELECTIONS["hard"]), x(fake, SELECTIONS["hard"]), fake["surface"][:, 0],
                                       seed=seed)
    decks = {}
    for number, (difficulty, groups) in enumerate(SELECTIONS.items()):
        pool = least_like if difficulty == "easy" else survivors
        ratio = density_ratio(x(real, groups), x(fake, groups, pool))
        accepted = rejection_sample(ratio, size, np.random.default_rng(seed + number))
        if len(accepted) < MIN_DECK_SIZE:  # chance fell short: top up with the most people-like of the rest
            rest = np.setdiff1d(np.argsort(-ratio), accepted, assume_unique=True)
            accepted = np.sort(np.r_[accepted, rest[:MIN_DECK_SIZE - len(accepted)]])
        accepted = balance_lengths(accepted, ratio, fake["surface"][pool, 0], real["surface"][:, 0],
                                   np.random.default_rng(seed + number))
        decks[difficulty] = pool[accepted].tolist()
    return decks


# ---------------------------------------------------------------- candidates (resumable)

Sampler = Callable[[int, FilterCounts], list[str]]  # (seed, counts) -> sentences that passed the filters


def read_candidates(path: Path) -> tuple[list[str], FilterCounts, int]:
    """(distinct candidates so far, filter counts, next seed) from a checkpoint file."""
    candidates, keys, counts, next_seed = [], set(), FilterCounts(), 0
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                batch = json.loads(line)
            except json.JSONDecodeError:
                break  # a line cut by a crash: everything after it is rewritten
            counts.add(FilterCounts(**batch["counts"]))
            next_seed = batch["seed"] + 1
            for text in batch["passed"]:
                if sentence_key(text) not in keys:
                    keys.add(sentence_key(text))
                    candidates.append(text)
    return candidates, counts, next_seed


def write_candidates(path: Path, sample: Sampler, target: int, label: str = "candidates") -> tuple[list[str], FilterCounts]:
    """Sample batches until ``target`` distinct candidates passed the filters, appending each
    batch to path (a run killed midway resumes from the last whole batch)."""
    candidates, counts, seed = read_candidates(path)
    keys = {sentence_key(t) for t in candidates}
    path.parent.mkdir(parents=True, exist_ok=True)
    with tqdm(total=target, initial=min(target, len(candidates)), desc=label, unit="fake") as bar, \
            open(path, "a", encoding="utf-8") as log:
        dry = 0
        while len(candidates) < target and dry < 50:
            batch = FilterCounts()
            passed = sample(seed, batch)
            log.write(json.dumps({"seed": seed, "passed": passed, "counts": asdict(batch)}, ensure_ascii=False) + "\n")
            log.flush()
            counts.add(batch)
            new = [t for t in passed if sentence_key(t) not in keys]
            keys.update(sentence_key(t) for t in new)
            candidates += new
            bar.update(min(len(new), target - bar.n))
            dry = 0 if new else dry + 1
            seed += 1
    return candidates, counts


def char_lstm_sampler(lm: LanguageModel, training: TrainingText, streams: int = 64) -> Sampler:
    return lambda seed, counts: sample_sentences(lm, training, streams, seed, counts)


# ---------------------------------------------------------------- building a bundle's decks

@dataclass
class PreparedDecks:
    """Everything write_decks stores: the chosen fakes and the figures of how they were chosen."""

    writer: str
    fakes: list[str]  # the fakes of at least one deck, in candidate order
    nats_per_char: list[float]  # of each fake, by the scoring LM
    decks: dict[str, list[int]]  # difficulty -> indices into fakes
    counts: FilterCounts
    candidates: int
    real_average: float  # mean nats/char of real test sentences (average_nats_per_char)
    metrics: dict  # per difficulty: detectors' accuracies and other figures (filled by the caller)


def prepare_decks(corpus: Corpus, lm: LanguageModel, checkpoint: Path, sample: Sampler | None = None,
                  writer: str = CHAR_LSTM, candidates: int | None = None, size: int = DECK_SIZE,
                  seed: int = 0, training: TrainingText | None = None,
                  meaning: Callable[[list[str]], np.ndarray] | None = None) -> PreparedDecks:
    """Candidates (resumable), features, selection. ``sample`` defaults to the char-LSTM; any
    writer (the word LSTM) passes its own. lm is the project's scoring model, always the char-LSTM.
    meaning: texts -> what their words mean and how rare they are (adversarial filtering and hard's
    selection use it; ``app.training.stages`` builds it from the bundle's skip-gram vectors)."""
    training = training or TrainingText.of(corpus)
    sample = sample or char_lstm_sampler(lm, training)
    candidates = candidates if candidates is not None else CANDIDATES_OF.get(corpus.name, CANDIDATES)
    pool, counts = write_candidates(checkpoint, sample, candidates, f"{writer} fakes")
    real_keys = {sentence_key(s) for split in ("validation", "test") for s in real_sentences(corpus, split)}
    pool = [t for t in pool if sentence_key(t) not in real_keys]  # a fake that is a real sentence is no fake
    validation = real_sentences(corpus, "validation")
    fake, real = cached_features(checkpoint.with_suffix(".features.npz"), lm, pool, validation)
    if meaning is not None:
        fake["meaning"], real["meaning"] = meaning(pool), meaning(validation)
    chosen = choose(real, fake, size, seed)
    used = sorted(set().union(*chosen.values()))
    position = {old: new for new, old in enumerate(used)}
    return PreparedDecks(writer, [pool[i] for i in used], [round(-float(fake["profile"][i, 0]), 4) for i in used],
                         {d: [position[i] for i in indices] for d, indices in chosen.items()},
                         counts, len(pool), round(average_nats_per_char(lm, real_sentences(corpus, "test")), 4),
                         {d: {"fakes": len(indices)} for d, indices in chosen.items()})


def cached_features(path: Path, lm: LanguageModel, fakes: list[str], reals: list[str]) -> tuple[dict, dict]:
    """Surface and profile features of the candidates and the validation sentences, from path if
    it holds those of exactly these texts (scoring thousands of sentences takes minutes)."""
    digest = hashlib.sha256("\n".join(fakes + ["--"] + reals).encode()).hexdigest()
    if path.is_file():
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["digest"]) == digest:
                return ({"surface": stored["fake_surface"], "profile": stored["fake_profile"]},
                        {"surface": stored["real_surface"], "profile": stored["real_profile"]})
    fake = {"surface": surface_features(fakes), "profile": profile_features(lm.score_batch(fakes))}
    real = {"surface": surface_features(reals), "profile": profile_features(lm.score_batch(reals))}
    np.savez(path, digest=digest, fake_surface=fake["surface"], fake_profile=fake["profile"],
             real_surface=real["surface"], real_profile=real["profile"])
    return fake, real


def deck_artifact(writer: str) -> str:
    return f"fakes-{writer}"


def write_decks(bundle: str, prepared: PreparedDecks, lm_sha256: str, **card) -> dict:
    """The deck file and its manifest entry (sha256, parameters, metrics)."""
    path = store.bundle_dir(bundle) / f"{deck_artifact(prepared.writer)}.json"
    document = {"writer": prepared.writer, "scoring_lm_sha256": lm_sha256, "temperature": TEMPERATURE,
                "real_average_nats_per_char": prepared.real_average,
                "fakes": [{"text": t, "nats_per_char": n} for t, n in zip(prepared.fakes, prepared.nats_per_char,
                                                                          strict=True)],
                "decks": prepared.decks}
    path.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    for difficulty, figures in prepared.metrics.items():
        readers = READER_BENCHMARKS.get((store.read_manifest(bundle).get("bundle", bundle), prepared.writer, difficulty))
        if readers:
            figures["readers"] = readers
    return store.record_artifact(
        bundle, deck_artifact(prepared.writer), path, kind="fake decks", writer=prepared.writer,
        scoring_lm_sha256=lm_sha256,
        params={"temperature": TEMPERATURE, "deck_size": DECK_SIZE, "selection": {d: list(g) for d, g in SELECTIONS.items()},
                "adversarial_filtering": {"rounds": AF_ROUNDS, "drop": AF_DROP, "applies_to": ["normal", "hard"]},
                "difficulties": DIFFICULTY_CARD, "selection_reals": "validation split", "graded_on": "test split"},
        metrics={"candidates": prepared.candidates, "filters": asdict(prepared.counts),
                 "real_average_nats_per_char": prepared.real_average, "decks": prepared.metrics},
        **card)


# ---------------------------------------------------------------- serving

@dataclass
class StoredDecks:
    """A bundle's stored decks of one writer, as the game deals them."""

    writer: str
    scoring_lm_sha256: str
    fakes: list[str]
    nats_per_char: list[float]
    decks: dict[str, list[int]]
    real_average: float | None
    metrics: dict

    def texts(self, difficulty: str) -> list[str]:
        return [self.fakes[i] for i in self.decks[difficulty]]


def stored_writers(bundle: str) -> list[str]:
    """Writers with a stored deck in the bundle, char-LSTM first."""
    artifacts = store.read_manifest(bundle)["artifacts"]
    return [w for w in WRITERS if deck_artifact(w) in artifacts]


def load_stored_decks(bundle: str, writer: str = CHAR_LSTM) -> StoredDecks | None:
    """The bundle's stored decks (checksum-verified), or None if it has none for this writer or
    they were chosen with another LM than the one the bundle serves now (retrain the decks)."""
    artifacts = store.read_manifest(bundle)["artifacts"]
    card = artifacts.get(deck_artifact(writer))
    if card is None or card.get("scoring_lm_sha256") != (artifacts.get("lm") or {}).get("sha256"):
        return None
    document = json.loads(store.verified_path(bundle, deck_artifact(writer)).read_text(encoding="utf-8"))
    return StoredDecks(writer, document["scoring_lm_sha256"], [f["text"] for f in document["fakes"]],
                       [f["nats_per_char"] for f in document["fakes"]], document["decks"],
                       document.get("real_average_nats_per_char"), card.get("metrics", {}).get("decks", {}))


class Dealer:
    """Deals items of a list in a shuffled order, round and round, to every game of a process.

    Consecutive games get the next items of the order, so a room's players see different
    sentences; one deal never holds the same item twice (at the end of the order, the next
    order is shuffled and the items already in this deal are moved out of its way).
    """

    def __init__(self, items: list, seed: int | None = None):
        if not items:
            raise ValueError("nothing to deal")
        self.items = list(items)
        self._rng = random.Random(seed)
        self._order: list[int] = []
        self._lock = threading.Lock()

    def deal(self, count: int) -> list:
        if count > len(self.items):
            raise ValueError(f"asked for {count} distinct items of {len(self.items)}")
        with self._lock:
            taken: list[int] = []
            while len(taken) < count:
                if not self._order:
                    self._order = self._rng.sample(range(len(self.items)), len(self.items))
                    # items this deal already has go to the back of the new order
                    self._order.sort(key=lambda i: i in taken)
                taken.append(self._order.pop(0))
            return [self.items[i] for i in taken]
