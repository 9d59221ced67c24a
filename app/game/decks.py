"""Stored decks: fakes that pass for people's sentences, written and chosen at training time.

``python -m app.training --corpus fashion-reviews --only decks`` runs ``prepare_decks`` then
``write_decks``. Each difficulty follows its ``DeckPlan`` (``PLANS``):

1. Candidates: the writer (``app/game/fakes.py``) samples with each decoding the plans use until
   ``candidates`` sentences pass the filters: the model as it is (temperature 1) for easy, nucleus
   sampling (top-p 0.8) for normal and hard, whose fakes blind readers caught far less often.
   Each batch is appended to a JSON-lines checkpoint (``checkpoints/<bundle>/decks-<writer>-...``),
   so an interrupted run keeps what it wrote.
2. Features: the project's LM scores every candidate and every real VALIDATION sentence: its
   per-character log-prob mean, spread and minimum and its GLTR rank fractions ("profile"),
   next to surface habits (length, first-letter case, final punctuation, digits, apostrophes,
   commas), with word vectors what the words mean and how rare they are ("meaning"), and how
   fluently they read word by word ("fluency").
3. Selection, one deck per difficulty, among candidates of the plan's lengths:
   * normal and hard first keep only the candidates that read, word by word, at least as fluently
     as a share of the validation sentences of their lengths (``app/game/fluency.py``: other models
     read every candidate whole, since sampling keeps the writer's unlikely turns);
   * normal and hard run adversarial filtering (Zellers et al. 2018): discriminators
     trained on reals against the candidates drop the ones they catch, a few rounds;
   * then a logistic regression tells real validation sentences from the remaining candidates on
     the plan's features; its odds p/(1-p) estimate the density ratio r = real/fake. Fakes are
     accepted with probability min(1, r ** t / c) (rejection sampling; c is set so about
     ``DECK_SIZE`` are accepted), and for t < 1 the test sentences the deck deals are drawn
     with weight r ** (t - 1): both sides meet at p_real ** t * p_fake ** (1 - t). t is the plan's
     ``fakes_travel``: readers catch the writer's least likely sentences, so normal and hard keep
     its likelier ones (t near 0) and deal the plain real sentences that are like them;
   * easy draws, surface-matched, from the third of the candidates whose likelihood profile is
     least like people's (so the decks differ in how detectable they are), beside every real
     sentence of its lengths.
   The features are cached next to the checkpoint: choosing again costs seconds.
4. The decks go into ``model_store/<bundle>/fakes-<writer>.json`` (JSON, no pickle), with the
   sha256 of the LM that scored them, each deck's lengths and the digests of the real sentences
   it chose (``real_digest``: never their text), and into the manifest with their metrics.

How detectable each deck is, is measured on the TEST split by detectors (``app/game/detectors.py``)
and by blind readers (``bench/blind_read.py``); the selection only ever sees validation sentences.
The game deals from the stored decks (``Dealer``), and deals the deck's real test sentences matched
to the fakes' word counts (``MatchedDealer``): no text generation while serving.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from app.data.corpus import Corpus, normalise, tokenize
from app.game.fakes import (
    AS_IS,
    MAX_WORDS,
    MIN_WORDS,
    NUCLEUS,
    Decoding,
    FilterCounts,
    TrainingText,
    is_complete_sentence,
    sample_sentences,
    sentence_key,
)
from app.game.fluency import fluency_score
from app.lm.char_lstm import LanguageModel, TextScore
from app.storage import store

CHAR_LSTM, WORD_LSTM = "char-lstm", "word-lstm"
WRITERS = {CHAR_LSTM: "the character LSTM", WORD_LSTM: "the word LSTM"}
DECK_SIZE = 600  # fakes per difficulty (at least MIN_DECK_SIZE are kept)
MIN_DECK_SIZE = 500
CANDIDATES = 8000  # filtered samples of each decoding to choose from: over ten per fake dealt
# The small wiki-sample model passes its filters half as often, and its test split holds about 800
# real sentences to match: half as many candidates do. The fashion decks choose among 100,000: hard
# keeps only the fluent half of them, and adversarial filtering still needs room to work.
CANDIDATES_OF = {"wiki-sample": 4000, "fashion-reviews": 100_000}


# Adversarial filtering (Zellers et al. 2018) of normal's and hard's candidates: each round,
# discriminators cross-fitted on real validation sentences against the surviving candidates (every
# feature group, meaning included, and the texts' style) score each candidate out of fold; the
# AF_DROP most clearly fake go. Rounds stop early rather than leave fewer than AF_FLOOR candidates
# per fake of a deck (the selection needs some to choose from).
AF_ROUNDS, AF_DROP, AF_FLOOR = 7, 0.3, 2
AF_GROUPS = ("surface", "likelihood", "profile", "meaning")


@dataclass(frozen=True)
class DeckPlan:
    """How one difficulty's deck is written and chosen."""

    decoding: Decoding  # how the writer samples its candidates
    words: tuple[int, int]  # sentence lengths the deck plays, fakes and reals alike
    selection: tuple[str, ...]  # feature groups matched to people's sentences (see features())
    least_like: bool = False  # choose among the candidates least like people's (easy), else among the
    # survivors of adversarial filtering
    filter_rounds: int = AF_ROUNDS  # rounds of adversarial filtering (not for least_like)
    fakes_travel: float = 1.0  # how far the fakes move towards people's sentences (1: all the way);
    # the real sentences the deck deals move the rest of the way, towards the fakes (see ``choose``)
    fluency_floor: float = 0.0  # candidates read at least as fluently, word by word (``app/game/fluency.py``),
    # as this share of the validation sentences of the plan's lengths (0: no floor)


# Short sentences give a reader less to catch, so the harder decks play shorter ones (blind readers
# were right 71-73% of the time on 5, 6 and 7 words, 82% on 8, 88% on 9-12); the reals are always
# dealt matched to the fakes' lengths (``MatchedDealer``), so length itself tells nothing.
# easy: the model as it is (temperature 1), whose tail characters make phrases that mean nothing.
# normal and hard: the fakes and the reals meet between the writer and people. Pulling the fakes
# all the way to people's sentences (the likelihood of people's words, their rare words) picks the
# samples whose surprising words make no sense, which readers caught four times in five; readers
# miss the writer's likelier sentences, so those stay, and the deck deals the real sentences that
# are like them (plain ones people wrote, never edited). Both also keep only the fakes that other
# models, a word trigram of the training split and the word LSTM, find at least as fluent as a share of
# people's sentences (half for normal, seven in ten for hard): readers caught 87% of the least fluent
# quarter of the fakes they read, 25% of the most fluent; the reals a deck deals then follow the fakes to
# the fluent side, and for hard to their style (character and word n-grams), where the fluent fakes
# differ most from people's. See docs/fakes.md for the trials.
PLANS = {
    "easy": DeckPlan(AS_IS, (8, 30), ("surface",), least_like=True),
    "normal": DeckPlan(NUCLEUS, (5, 8), ("surface", "likelihood", "profile", "meaning", "fluency"), filter_rounds=4,
                       fakes_travel=0.25, fluency_floor=0.5),
    "hard": DeckPlan(NUCLEUS, (5, 7), ("surface", "likelihood", "profile", "meaning", "fluency", "style"), filter_rounds=4,
                     fakes_travel=0.0, fluency_floor=0.7),
}
FULL_PROFILE = ("surface", "likelihood", "profile")
EASY_FROM = 1 / 3  # easy draws from this least people-like fraction of the candidates
# Careful blind readers (bench/blind_read.py --score) on the decks as they are stored now, by
# (bundle, writer, difficulty): {"accuracy": right share, "readers": how many, "sentences": read in
# all}. write_decks puts them on the deck's card, the game shows them after a reveal. Figures of
# earlier decks do not carry over: a deck chosen again starts unmeasured until readers read it.
READER_BENCHMARKS: dict[tuple[str, str, str], dict] = {
    # 2026-12-02, the stored decks (normal 5-8 words, fluency floor at 50%; hard 5-7 words, at 70%): two
    # panels of 8 readers, a fresh sheet each (bench/blind_read.py --make 16 of each deck beside the
    # earlier hard decks, and --make 20 of each deck)
    ("fashion-reviews", CHAR_LSTM, "normal"): {"accuracy": 0.714, "readers": 16, "sentences": 287},
    ("fashion-reviews", CHAR_LSTM, "hard"): {"accuracy": 0.575, "readers": 16, "sentences": 287},
    ("fashion-reviews", WORD_LSTM, "normal"): {"accuracy": 0.713, "readers": 16, "sentences": 286},
    ("fashion-reviews", WORD_LSTM, "hard"): {"accuracy": 0.639, "readers": 16, "sentences": 288},
}
# What each difficulty is, in a player's words (the deck card; docs/fakes.md).
DIFFICULTY_CARD = {
    "easy": "long sentences the model wrote as it is, chosen among those it finds least like people's: "
            "the odd phrasing shows",
    "normal": "sentences of {}-{} words the model wrote from its likelier choices, only those that read as smoothly "
              "as {:.0%} of people's sentences, beside plain real ones: both kept only where a machine trained to "
              "catch fakes could not tell them apart".format(*PLANS["normal"].words, PLANS["normal"].fluency_floor),
    "hard": "the same in {}-{} words, only fakes that read as smoothly as {:.0%} of people's sentences, beside the "
            "real sentences most like them: less to go on".format(*PLANS["hard"].words, PLANS["hard"].fluency_floor),
}


# ---------------------------------------------------------------- real sentences

def real_sentences(corpus: Corpus, split: str = "test") -> list[str]:
    """Complete sentences of the split, 5-30 words, first copy of each, as the source writes them.

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


# Feature groups a side may hold beside surface and profile, each an (n, k) array, and whether the
# selection also matches their squares:
# * meaning: what the words mean and how rare they are (``meaning_statistics`` of
#   ``app/game/detectors.py``), when the bundle has word vectors;
# * fluency: how they read word by word (``WordFluency.statistics``);
# * style: the style discriminator's log-odds that a text is people's (``with_style``), for
#   the plans that deal the reals most like their fakes in style too.
MORE_GROUPS = {"meaning": False, "fluency": True, "style": True}


def features(surface: np.ndarray, profile: np.ndarray, groups: tuple[str, ...],
             more: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The columns a selection matches, with squares of the continuous ones (so a logistic
    regression matches spreads, not only means). more: the ``MORE_GROUPS`` a side has."""
    columns = []
    if "surface" in groups:
        columns += [surface, surface[:, [0]] ** 2, surface[:, [6]] ** 2]
    if "likelihood" in groups:
        columns += [profile[:, [0]], profile[:, [0]] ** 2]
    if "profile" in groups:
        columns += [profile[:, 1:], profile[:, 1:3] ** 2, profile[:, [0]] * profile[:, [1]]]
    for name, squared in MORE_GROUPS.items():
        if name in groups and more and more.get(name) is not None:
            columns += [more[name], more[name] ** 2] if squared else [more[name]]
    return np.hstack(columns)


# ---------------------------------------------------------------- selection

def density_ratio(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """Estimated p_real(x) / p_fake(x) at each fake, from a balanced logistic regression."""
    return fit_density_ratio(real, fake)(fake)


def fit_density_ratio(real: np.ndarray, fake: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """x -> estimated p_real(x) / p_fake(x), from a balanced logistic regression of real against fake."""
    # Every server imports this module (app.game.quiz deals the stored decks); only training chooses decks:
    # imported here, scikit-learn (about 1.5 s to import) is kept out of the app's start-up.
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([real, fake])
    y = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000, class_weight="balanced"))
    model.fit(x, y)
    return lambda at: np.exp(model.decision_function(at))  # the odds: the ratio up to a constant


def rejection_sample(ratio: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices accepted with probability min(1, ratio / c), c chosen so about ``size`` pass."""
    # sum(min(1, ratio / c)) <= sum(ratio) / c: from this c on, at most size pass (flat ratios too)
    low, high = 1e-12, max(float(ratio.max()), float(ratio.sum()) / size) * 2
    for _ in range(100):  # bisection on c: sum(min(1, ratio / c)) decreases as c grows
        c = np.sqrt(low * high)
        if np.minimum(1, ratio / c).sum() > size:
            low = c
        else:
            high = c
    accepted = np.flatnonzero(rng.random(len(ratio)) < np.minimum(1, ratio / high))
    return np.sort(accepted)


LENGTH_BANDS = (7, 9, 12, 16, 21)  # word counts where a band starts (5-6, 7-8, 9-11, 12-15, 16-20, 21-30)


def adversarial_filter(real: np.ndarray, fake: np.ndarray, words: np.ndarray, rounds: int = AF_ROUNDS,
                       drop: float = AF_DROP, seed: int = 0, real_texts: list[str] | None = None,
                       fake_texts: list[str] | None = None, keep_at_least: int = 0) -> np.ndarray:
    """Indices of the fakes that survive ``rounds`` of adversarial filtering: each round two
    discriminators, cross-fitted (5 folds: no candidate is scored by a model trained on it), score
    every surviving candidate, and the ``drop`` share they find most clearly fake goes, in each
    length band apart (survivors keep the candidates' lengths, which the selection then matches
    to people's). words: each fake's word count.

    * a gradient-boosted model on the features (real, fake);
    * with the texts, a logistic regression on their character 1-4-grams and words (TF-IDF): the
      writer's habits of style (punctuation, favourite words) that no feature names.
    A candidate's realness is its mean rank under the two. No round starts that would leave fewer
    than keep_at_least."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # training only: see density_ratio
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    kept = np.arange(len(fake))
    for number in range(rounds):
        if len(kept) * (1 - drop) < keep_at_least:
            break
        x = np.vstack([real, fake[kept]])
        y = np.r_[np.ones(len(real)), np.zeros(len(kept))]
        folds = StratifiedKFold(5, shuffle=True, random_state=seed + number)
        discriminator = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, class_weight="balanced",
                                                       random_state=seed + number)
        realness = rank(cross_val_predict(discriminator, x, y, cv=folds, method="decision_function")[len(real):])
        if real_texts is not None and fake_texts is not None:
            texts = list(real_texts) + [fake_texts[i] for i in kept]
            realness += rank(cross_val_predict(style_discriminator(), texts, y, cv=folds,
                                               method="decision_function")[len(real):])
        bands = np.digitize(words[kept], LENGTH_BANDS)
        survive = np.zeros(len(kept), dtype=bool)
        for band in np.unique(bands):
            members = np.flatnonzero(bands == band)
            survive[members[np.argsort(-realness[members])[:max(1, int(round(len(members) * (1 - drop))))]]] = True
        kept = kept[survive]
    return kept


def with_style(real: dict, reals: np.ndarray, fake: dict, pool: np.ndarray, played: dict | None,
               seed: int = 0) -> tuple[dict, dict, dict | None]:
    """real, fake and played, each with a "style" column: the style discriminator's log-odds that
    a text is people's, fitted on real[reals] against fake[pool] (those rows scored out of fold, so
    no text is scored by a model that saw it; the played texts by the model fitted on them all)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict  # training only: see density_ratio

    texts = [real["texts"][i] for i in reals] + [fake["texts"][i] for i in pool]
    y = np.r_[np.ones(len(reals)), np.zeros(len(pool))]
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    out_of_fold = cross_val_predict(style_discriminator(), texts, y, cv=folds, method="decision_function")

    def column(side: dict, rows: np.ndarray, values: np.ndarray) -> dict:
        style = np.full((len(side["texts"]), 1), np.nan)
        style[rows, 0] = values
        return side | {"style": style}

    real, fake = column(real, reals, out_of_fold[:len(reals)]), column(fake, pool, out_of_fold[len(reals):])
    if played is not None:
        model = style_discriminator().fit(texts, y)
        played = column(played, np.arange(len(played["texts"])), model.decision_function(played["texts"]))
    return real, fake, played


def rank(scores: np.ndarray) -> np.ndarray:
    """Each score's rank among them, 0 (lowest) to 1."""
    return np.argsort(np.argsort(scores)) / max(1, len(scores) - 1)


def style_discriminator():
    """Character 1-4-grams and words, TF-IDF, into a balanced logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # training only: see density_ratio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    return make_pipeline(
        make_union(TfidfVectorizer(sublinear_tf=True, min_df=2, analyzer="char", ngram_range=(1, 4)),
                   TfidfVectorizer(sublinear_tf=True, min_df=2, analyzer="word", ngram_range=(1, 2))),
        LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced"))


def balance_lengths(accepted: np.ndarray, ratio: np.ndarray, words: np.ndarray, real_words: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """accepted (indices into ratio and words) with each length band as common as among the reals:
    a band over its share loses random members, one under it gains others drawn by their ratio
    (as the selection draws; the filtering and the meaning features favour short sentences)."""
    bands, real_bands = np.digitize(words, LENGTH_BANDS), np.digitize(real_words, LENGTH_BANDS)
    kept = []
    for band in range(len(LENGTH_BANDS) + 1):
        target = int(round(len(accepted) * np.mean(real_bands == band)))
        inside = accepted[bands[accepted] == band]
        if len(inside) >= target:
            kept.append(rng.choice(inside, target, replace=False))
        else:
            others = np.setdiff1d(np.flatnonzero(bands == band), inside)
            weights = ratio[others] / ratio[others].sum() if len(others) else None
            kept.append(np.r_[inside, rng.choice(others, min(len(others), target - len(inside)), replace=False, p=weights)])
    return np.sort(np.concatenate(kept)).astype(int)


def choose(real: dict, fake: dict, plan: DeckPlan, size: int = DECK_SIZE, seed: int = 0,
           played: dict | None = None) -> tuple[list[int], list[int] | None]:
    """The candidates (indices into fake, sampled with plan.decoding) that make plan's deck, and
    the real sentences it deals (indices into played, the test sentences it may deal; None
    without them).

    real (validation sentences), fake and played hold "surface" and "profile" feature arrays
    (``surface_features``, ``profile_features``), and "meaning" when the bundle has word vectors
    (without them there is no adversarial filtering, and the selection matches what it can);
    "texts", the sentences themselves, when the filtering should also read their style.

    A logistic regression of validation sentences against the candidates estimates the density
    ratio r = p_real / p_fake. Fakes are drawn with weight r ** t (t = plan.fakes_travel), the
    dealt reals with weight r ** (t - 1): both sides then follow p_real ** t * p_fake ** (1 - t),
    where no detector of those features can tell them apart. t = 1 pulls the fakes all the way
    to people's sentences and deals every real one; t = 0 keeps the writer's own sentences and
    deals the real sentences most like them. The ratio is fitted on validation sentences only;
    the test sentences are only weighed."""
    def texts_of(side: dict, rows: np.ndarray) -> list[str] | None:
        return [side["texts"][i] for i in rows] if "texts" in side else None

    def rows_in_range(side: dict[str, np.ndarray]) -> np.ndarray:
        words = side["surface"][:, 0]
        return np.flatnonzero((words >= plan.words[0]) & (words <= plan.words[1]))

    def x(side: dict[str, np.ndarray], groups: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
        more = {name: side[name][rows] for name in MORE_GROUPS if side.get(name) is not None}
        return features(side["surface"][rows], side["profile"][rows], groups, more)

    reals, pool = rows_in_range(real), rows_in_range(fake)
    rng = np.random.default_rng(seed)
    if plan.fluency_floor > 0 and fake.get("fluency") is not None:
        # readers catch the fakes whose words don't follow each other as people's do: keep those that
        # read at least as fluently as the plan's share of people's sentences of these lengths
        floor = np.quantile(fluency_score(real["fluency"][reals]), plan.fluency_floor)
        pool = pool[fluency_score(fake["fluency"][pool]) >= floor]
    if plan.least_like:
        # least like people by the likelihood profile alone: the full ratio over the surface-only one
        # (ranking by the full ratio would pick the shortest sentences, whose length a reader sees)
        likeness = density_ratio(x(real, FULL_PROFILE, reals), x(fake, FULL_PROFILE, pool)) \
            / density_ratio(x(real, ("surface",), reals), x(fake, ("surface",), pool))
        pool = pool[np.sort(np.argsort(likeness)[:int(len(likeness) * EASY_FROM)])]
    elif fake.get("meaning") is not None:
        pool = pool[adversarial_filter(x(real, AF_GROUPS, reals), x(fake, AF_GROUPS, pool), fake["surface"][pool, 0],
                                       rounds=plan.filter_rounds, seed=seed, real_texts=texts_of(real, reals),
                                       fake_texts=texts_of(fake, pool), keep_at_least=AF_FLOOR * size)]
    if "style" in plan.selection and "texts" in fake and "texts" in real:
        real, fake, played = with_style(real, reals, fake, pool, played, seed)
    ratio_at = fit_density_ratio(x(real, plan.selection, reals), x(fake, plan.selection, pool))
    ratio = ratio_at(x(fake, plan.selection, pool)) ** plan.fakes_travel
    accepted = rejection_sample(ratio, size, rng)
    if len(accepted) < MIN_DECK_SIZE:  # chance fell short: top up with the most people-like of the rest
        rest = np.setdiff1d(np.argsort(-ratio), accepted, assume_unique=True)
        accepted = np.sort(np.r_[accepted, rest[:MIN_DECK_SIZE - len(accepted)]])
    dealt, real_words = None, real["surface"][reals, 0]
    if played is not None:
        dealt = rows_in_range(played)
        if plan.fakes_travel < 1 and len(dealt):  # the reals travel the rest of the way; half of them are dealt
            weight = ratio_at(x(played, plan.selection, dealt)) ** (plan.fakes_travel - 1)
            dealt = dealt[rejection_sample(weight, max(1, len(dealt) // 2), rng)]
        real_words = played["surface"][dealt, 0]
    accepted = balance_lengths(accepted, ratio, fake["surface"][pool, 0], real_words, rng)
    return pool[accepted].tolist(), None if dealt is None else dealt.tolist()


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


Writer = Callable[[Decoding], Sampler]  # a model that writes: its sampler for a decoding


def char_lstm_writer(lm: LanguageModel, training: TrainingText, streams: int = 64) -> Writer:
    return lambda decoding: lambda seed, counts: sample_sentences(lm, training, streams, seed, counts, decoding=decoding)


def pool_checkpoint(checkpoint: Path, decoding: Decoding) -> Path:
    """Each decoding's candidates in a file of their own (the model as it is keeps the plain name)."""
    if decoding == AS_IS:
        return checkpoint
    return checkpoint.with_name(f"{checkpoint.stem}-t{decoding.temperature:g}-p{decoding.top_p:g}{checkpoint.suffix}")


# ---------------------------------------------------------------- building a bundle's decks

@dataclass
class PreparedDecks:
    """Everything write_decks stores: the chosen fakes and the figures of how they were chosen."""

    writer: str
    fakes: list[str]  # the fakes of at least one deck
    nats_per_char: list[float]  # of each fake, by the scoring LM
    decks: dict[str, list[int]]  # difficulty -> indices into fakes
    counts: dict[str, FilterCounts]  # decoding name -> what its filters turned away
    candidates: dict[str, int]  # decoding name -> distinct candidates to choose from
    real_average: float  # mean nats/char of real test sentences (average_nats_per_char)
    metrics: dict  # per difficulty: detectors' accuracies and other figures (filled by the caller)
    real_vocabulary: str | None = None  # artifact whose vocabulary the writer keeps to: reals are dealt inside it
    reals: dict[str, list[str]] = field(default_factory=dict)  # difficulty -> the test sentences it deals,
    # for the decks that choose them (``DeckPlan.fakes_travel`` < 1); the others deal all they play


def prepare_decks(corpus: Corpus, lm: LanguageModel, checkpoint: Path, writer_for: Writer | None = None,
                  writer: str = CHAR_LSTM, candidates: int | None = None, size: int = DECK_SIZE,
                  seed: int = 0, training: TrainingText | None = None,
                  meaning: Callable[[list[str]], np.ndarray] | None = None,
                  fluency: Callable[[list[str]], np.ndarray] | None = None,
                  real_vocabulary: str | None = None, vocabulary: frozenset[str] | None = None) -> PreparedDecks:
    """Candidates of each decoding the PLANS use (resumable), features, selection. ``writer_for``
    defaults to the char-LSTM; any writer (the word LSTM) passes its own. lm is the project's
    scoring model, always the char-LSTM. meaning: texts -> what their words mean and how rare they
    are (adversarial filtering and the selection use it; ``app.training.stages`` builds it from the
    bundle's skip-gram vectors). fluency: texts -> how they read word by word (``WordFluency.statistics``;
    normal and hard keep the candidates above their floors). vocabulary: the words of a writer that knows no others (the real
    sentences it is matched with and dealt keep to them; ``real_vocabulary`` names its artifact)."""
    training = training or TrainingText.of(corpus)
    writer_for = writer_for or char_lstm_writer(lm, training)
    candidates = candidates if candidates is not None else CANDIDATES_OF.get(corpus.name, CANDIDATES)
    all_validation, all_test = real_sentences(corpus, "validation"), real_sentences(corpus, "test")
    real_keys = {sentence_key(s) for s in all_validation + all_test}
    validation = plays(all_validation, (MIN_WORDS, MAX_WORDS), vocabulary)
    test = plays(all_test, (MIN_WORDS, MAX_WORDS), vocabulary)
    played = {"surface": surface_features(test), "profile": profile_features(lm.score_batch(test)), "texts": test}
    if meaning is not None:
        played["meaning"] = meaning(test)
    if fluency is not None:
        played["fluency"] = fluency(test)
    dealt: dict[str, list[str]] = {}
    fakes: list[str] = []
    nats: list[float] = []
    chosen: dict[str, list[int]] = {}
    counts, pools = {}, {}
    for decoding in dict.fromkeys(plan.decoding for plan in PLANS.values()):
        path = pool_checkpoint(checkpoint, decoding)
        # easy alone draws on the model as it is, from a third of its candidates: CANDIDATES are plenty
        target = min(candidates, CANDIDATES) if decoding == AS_IS else candidates
        pool, counts[decoding.name] = write_candidates(path, writer_for(decoding), target,
                                                       f"{writer} fakes, {decoding.name}")
        pool = [t for t in pool if sentence_key(t) not in real_keys]  # a fake that is a real sentence is no fake
        pools[decoding.name] = len(pool)
        fake, real = cached_features(path.with_suffix(".features.npz"), lm, pool, validation)
        if meaning is not None:
            fake["meaning"], real["meaning"] = meaning(pool), meaning(validation)
        if fluency is not None:
            fake["fluency"], real["fluency"] = fluency(pool), fluency(validation)
        fake["texts"], real["texts"] = pool, validation
        position: dict[int, int] = {}  # index in pool -> index in fakes
        for number, (difficulty, plan) in enumerate(PLANS.items()):
            if plan.decoding != decoding:
                continue
            picked, reals = choose(real, fake, plan, size, seed + number, played)
            if plan.fakes_travel < 1:
                dealt[difficulty] = [test[i] for i in reals]
            for i in picked:
                if i not in position:
                    position[i] = len(fakes)
                    fakes.append(pool[i])
                    nats.append(round(-float(fake["profile"][i, 0]), 4))
            chosen[difficulty] = sorted(position[i] for i in picked)
    return PreparedDecks(writer, fakes, nats, {d: chosen[d] for d in PLANS}, counts, pools,
                         round(average_nats_per_char(lm, all_test), 4),
                         {d: {"fakes": len(indices)} for d, indices in chosen.items()}, real_vocabulary, dealt)


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


def plan_card(plan: DeckPlan) -> dict:
    card = {"decoding": asdict(plan.decoding), "words": list(plan.words), "selection": list(plan.selection),
            "chosen from": "the least people-like third" if plan.least_like else
            f"the survivors of {plan.filter_rounds} rounds of adversarial filtering"}
    if plan.fluency_floor > 0:
        card["fluency floor"] = (f"candidates read word by word at least as fluently as {plan.fluency_floor:.0%} of "
                                 "the validation sentences of its lengths (a word trigram of the training split, "
                                 "forwards and backwards, and the bundle's word LSTM when it has one)")
    if plan.fakes_travel < 1:
        card["fakes travel"] = plan.fakes_travel
        card["reals dealt"] = (f"half of the test sentences of its lengths, drawn with weight (p_fake / p_real) ** "
                               f"{1 - plan.fakes_travel:g}: the fakes and the reals meet between writer and people")
    return card


def real_digest(sentence: str) -> str:
    """A real sentence's name in a deck file: a deck that chooses its reals stores these, never the
    sentences (the corpus stays out of the repository)."""
    return hashlib.sha256(sentence_key(sentence).encode()).hexdigest()[:16]


def write_decks(bundle: str, prepared: PreparedDecks, lm_sha256: str, **card) -> dict:
    """The deck file and its manifest entry (sha256, parameters, metrics)."""
    path = store.bundle_dir(bundle) / f"{deck_artifact(prepared.writer)}.json"
    document = {"writer": prepared.writer, "scoring_lm_sha256": lm_sha256,
                "real_average_nats_per_char": prepared.real_average,
                "words": {d: list(plan.words) for d, plan in PLANS.items()},
                "real_vocabulary": prepared.real_vocabulary,
                "reals": {d: sorted(real_digest(s) for s in texts) for d, texts in prepared.reals.items()},
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
        params={"deck_size": DECK_SIZE, "plans": {d: plan_card(plan) for d, plan in PLANS.items()},
                "adversarial_filtering": {"rounds": AF_ROUNDS, "drop": AF_DROP, "features": list(AF_GROUPS) + ["style"],
                                          "keeps at least": f"{AF_FLOOR} candidates per fake"},
                "difficulties": DIFFICULTY_CARD, "selection_reals": "validation split", "graded_on": "test split",
                "reals_dealt": "test split, matched one by one to the fakes' word counts"
                               + (f", inside the {prepared.real_vocabulary} vocabulary" if prepared.real_vocabulary else "")
                               + (f"; {', '.join(prepared.reals)} deal the test sentences they chose (see each plan)"
                                  if prepared.reals else "")},
        metrics={"candidates": prepared.candidates, "filters": {name: asdict(c) for name, c in prepared.counts.items()},
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
    words: dict[str, tuple[int, int]]  # difficulty -> the sentence lengths it plays
    vocabulary: frozenset[str] | None = None  # the writer's words, when it knows no others
    descriptions: dict[str, str] | None = None  # difficulty -> what its deck is, as its card says
    real_digests: dict[str, frozenset[str]] = field(default_factory=dict)  # difficulty -> the reals it
    # chose (``real_digest``), for the decks that choose them

    def texts(self, difficulty: str) -> list[str]:
        return [self.fakes[i] for i in self.decks[difficulty]]

    def reals(self, difficulty: str, sentences: list[str]) -> list[str]:
        """The real sentences the deck deals: those it chose, or every one it plays (``plays``)."""
        played = plays(sentences, self.words.get(difficulty, (MIN_WORDS, MAX_WORDS)), self.vocabulary)
        chosen = self.real_digests.get(difficulty)
        return played if chosen is None else [s for s in played if real_digest(s) in chosen]


def plays(sentences: list[str], words: tuple[int, int], vocabulary: frozenset[str] | None = None) -> list[str]:
    """The sentences a deck deals beside its fakes: of its lengths, and made of words its writer
    could have written (a word LSTM's fakes never hold a word outside its vocabulary)."""
    def played(sentence: str) -> bool:
        tokens = tokenize(sentence)
        return words[0] <= len(tokens) <= words[1] and (vocabulary is None or all(w in vocabulary for w in tokens))
    return [s for s in sentences if played(s)]


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
    vocabulary = None
    if document.get("real_vocabulary"):
        _, header = store.load_weights(store.verified_path(bundle, document["real_vocabulary"]))
        vocabulary = frozenset(header["tokens"])
    return StoredDecks(writer, document["scoring_lm_sha256"], [f["text"] for f in document["fakes"]],
                       [f["nats_per_char"] for f in document["fakes"]], document["decks"],
                       document.get("real_average_nats_per_char"), card.get("metrics", {}).get("decks", {}),
                       {d: tuple(w) for d, w in (document.get("words") or card.get("params", {}).get("words", {})).items()},
                       vocabulary,
                       card.get("params", {}).get("difficulties"),
                       {d: frozenset(digests) for d, digests in (document.get("reals") or {}).items()})


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


class MatchedDealer:
    """Deals real sentences matched one by one to the word counts of given fakes.

    Each word count has its own ``Dealer``; a fake of n words gets a real sentence of n words, or
    of the nearest count that has one left for this deal. Length then tells a player nothing,
    and a pair's two sentences are as long as each other.
    """

    def __init__(self, reals: list[str], seed: int | None = None):
        by_count: dict[int, list[str]] = {}
        for real in reals:
            by_count.setdefault(len(tokenize(real)), []).append(real)
        if not by_count:
            raise ValueError("no real sentences to deal")
        self.items = list(reals)
        self._dealers = {count: Dealer(texts, seed) for count, texts in sorted(by_count.items())}

    def deal_like(self, fakes: list[str]) -> list[str]:
        if len(fakes) > len(self.items):
            raise ValueError(f"asked for {len(fakes)} distinct real sentences of {len(self.items)}")
        dealt: list[str] = []
        for fake in fakes:
            words = len(tokenize(fake))
            for count in sorted(self._dealers, key=lambda c: (abs(c - words), c)):
                real = self._dealers[count].deal(1)[0]
                if real not in dealt:  # (a count with few sentences may come round again)
                    dealt.append(real)
                    break
        return dealt
