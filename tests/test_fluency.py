"""The decks' second reader (app/game/fluency.py), on real sentences of the wiki sample."""

from __future__ import annotations

import doctest
import random

import numpy as np
import pytest

from app.data.corpus import FASHION, WIKI, load_corpus, tokenize
from app.game import decks, fakes
from app.game import fluency as fluency_module
from app.game.fluency import COLUMNS, WORD_LSTM_COLUMN, WordFluency, fluency_score
from app.lm.wordlm import load_bundle_word_lm


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(WIKI)


@pytest.fixture(scope="module")
def fluency(corpus):
    return WordFluency.of(corpus)


@pytest.fixture(scope="module")
def fashion_fluency(fashion_csv):
    fashion = load_corpus(FASHION)
    return fashion, WordFluency.of(fashion, load_bundle_word_lm(FASHION))


def people_and_shuffled(corpus) -> tuple[list[str], list[str]]:
    """300 held-out sentences, and the same words in a random order: the words and their rarity are
    the same, only the order differs, which is what a reader notices in a fake."""
    sentences = [s for s in decks.real_sentences(corpus, "test") if len(tokenize(s)) >= 6][:300]
    rng = random.Random(0)
    return sentences, [" ".join(rng.sample(tokenize(s), len(tokenize(s)))) + "." for s in sentences]


def test_people_s_sentences_read_more_fluently_than_their_words_shuffled(corpus, fluency):
    sentences, shuffled = people_and_shuffled(corpus)
    people, scrambled = fluency.statistics(sentences), fluency.statistics(shuffled)
    assert people.shape == (len(sentences), len(COLUMNS))
    assert np.mean(fluency_score(people) > fluency_score(scrambled)) > 0.9
    # the worst fit, forwards and backwards, falls too: a word where people never put it
    assert np.mean(people[:, 1] > scrambled[:, 1]) > 0.75 and np.mean(people[:, 2] > scrambled[:, 2]) > 0.75


def test_a_sentence_reads_the_same_alone_or_among_others(fluency):
    texts = ["The river flows to the sea.", "", "🙂 <b>bold</b> ünïcode words!", "The river flows to the sea."]
    together = fluency.statistics(texts)
    alone = np.vstack([fluency.statistics([t]) for t in texts])
    assert np.allclose(together, alone) and np.allclose(together[0], together[3])
    assert np.all(np.isfinite(together))  # no words at all is read as an end after a start
    assert fluency.statistics([]).shape == (0, len(COLUMNS))


def test_the_word_lstm_reads_on_as_a_third_reader(fashion_fluency):
    """With the bundle's word LSTM, a sixth column: its mean log-prob, which also puts people's
    sentences above their words shuffled, and which the score averages with the trigram's two."""
    fashion, fluency = fashion_fluency
    sentences, shuffled = people_and_shuffled(fashion)
    people, scrambled = fluency.statistics(sentences), fluency.statistics(shuffled)
    assert fluency.columns == (*COLUMNS, WORD_LSTM_COLUMN) and people.shape == (len(sentences), len(COLUMNS) + 1)
    assert np.mean(people[:, -1] > scrambled[:, -1]) > 0.9
    np.testing.assert_allclose(fluency_score(people), people[:, 3:].mean(axis=1))
    texts = sentences[:3] + ["", "🙂 <b>bold</b> ünïcode words!"]
    assert np.allclose(fluency.statistics(texts), np.vstack([fluency.statistics([t]) for t in texts]))


def synthetic_side(rng, n: int, shift: float) -> dict:
    """n sentences of 5-8 words: log-prob mean from N(0, 1), fluency score from N(shift, 1)."""
    surface = np.zeros((n, len(decks.SURFACE)))
    surface[:, 0] = rng.integers(5, 9, n)
    fluent = rng.normal(shift, 1.0, n)
    return {"surface": surface, "profile": rng.normal(0.0, 1.0, (n, len(decks.PROFILE))),
            "fluency": np.column_stack([rng.normal(5, 1, n), rng.normal(0, 1, n), rng.normal(0, 1, n), fluent, fluent])}


def test_a_fluency_floor_keeps_the_fakes_that_read_as_well_as_most_people_s_and_deals_reals_like_them():
    """The writer's sentences read less fluently than people's (N(-0.5, 1) against N(0, 1)). With a
    floor at people's median, no fake below it is chosen; the reals dealt follow the fakes up."""
    rng = np.random.default_rng(0)
    validation, candidates, test = synthetic_side(rng, 3000, 0.0), synthetic_side(rng, 8000, -0.5), synthetic_side(rng, 3000, 0.0)
    plan = decks.DeckPlan(fakes.NUCLEUS, (5, 8), ("likelihood", "fluency"), fakes_travel=0.0, fluency_floor=0.5)
    picked, dealt = decks.choose(validation, candidates, plan, size=600, played=test)
    floor = np.median(fluency_score(validation["fluency"]))
    assert len(picked) == pytest.approx(600, abs=60)
    assert fluency_score(candidates["fluency"][picked]).min() >= floor
    assert fluency_score(test["fluency"][dealt]).mean() > fluency_score(test["fluency"]).mean() + 0.3
    unfloored = decks.choose(validation, candidates, decks.DeckPlan(fakes.NUCLEUS, (5, 8), ("likelihood", "fluency"),
                                                                    fakes_travel=0.0), size=600, played=test)[0]
    assert fluency_score(candidates["fluency"][unfloored]).min() < floor  # the floor did the work


def test_the_module_s_example_runs():
    assert doctest.testmod(fluency_module).failed == 0


@pytest.mark.parametrize("difficulty", [d for d, plan in decks.PLANS.items() if plan.fluency_floor > 0])
@pytest.mark.parametrize("writer", [decks.CHAR_LSTM, decks.WORD_LSTM])
def test_the_stored_fashion_decks_keep_above_their_fluency_floor(fashion_fluency, writer, difficulty):
    """Recomputed from the corpus: every fake of a stored deck with a floor reads at least as fluently
    as the plan's share of the validation sentences of its lengths, and the reals it deals follow
    them (they read more fluently than the test sentences it could have dealt)."""
    fashion, fluency = fashion_fluency
    plan, stored = decks.PLANS[difficulty], decks.load_stored_decks(FASHION, writer)
    validation = decks.plays(decks.real_sentences(fashion, "validation"), plan.words, stored.vocabulary)
    floor = np.quantile(fluency.score(validation), plan.fluency_floor)
    assert fluency.score(stored.texts(difficulty)).min() >= floor - 1e-9
    test = decks.real_sentences(fashion, "test")
    dealt, playable = stored.reals(difficulty, test), decks.plays(test, plan.words, stored.vocabulary)
    assert fluency.score(dealt).mean() > fluency.score(playable).mean()
