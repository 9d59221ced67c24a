"""The detectors the deck selection never used (app/game/detectors.py, issue 24): they run on a small
deck and beat chance on an easy synthetic case: real sentences with their words shuffled and half
of them swapped for words drawn uniformly from the vocabulary (unrelated, rare, out of order)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from app.catalog import models
from app.data.corpus import WIKI, load_corpus, tokenize
from app.game import decks, detectors


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(WIKI)


@pytest.fixture(scope="module")
def embeddings():
    return models.load_embeddings(f"{WIKI}/skipgram")


@pytest.fixture(scope="module")
def counts(corpus):
    return detectors.word_counts(corpus)


def scrambled(text: str, vocabulary: list[str], rng: random.Random) -> str:
    words = tokenize(text)
    rng.shuffle(words)
    return " ".join(rng.choice(vocabulary) if i % 2 else w for i, w in enumerate(words)).capitalize() + "."


def test_the_untuned_detectors_beat_chance_on_scrambled_fakes(corpus, embeddings, counts):
    reals = decks.real_sentences(corpus, "test")
    rng = random.Random(0)
    fakes = [scrambled(t, embeddings.words, rng) for t in reals[200:350]]
    found = detectors.untuned_accuracies(fakes, reals[:150], embeddings, counts)
    assert set(found) == set(detectors.UNTUNED_DETECTORS)
    for name, detection in found.items():
        assert detection.accuracy > 0.6, f"{name}: {detection.accuracy:.1%}"
        assert 0 <= detection.fooled <= 1


def test_the_untuned_detectors_run_on_a_stored_deck(corpus, embeddings, counts):
    """On a small slice of a stored deck against length-matched reals: figures between 0 and 1."""
    fakes = decks.load_stored_decks(WIKI).texts("easy")[:60]
    matched = detectors.matched_reals(fakes, decks.real_sentences(corpus, "test"))
    found = detectors.untuned_accuracies(fakes, matched, embeddings, counts, folds=3)
    assert all(0 <= d.accuracy <= 1 and d.accuracy_std >= 0 for d in found.values())


def test_coherence_is_lower_for_unrelated_words(embeddings):
    """Content words about one thing are closer in the skip-gram space than words drawn at random."""
    vocabulary = [w for w in embeddings.words[200:20000] if w.isalpha()]
    rng = random.Random(1)
    topical = ["The river flows through the valley to the sea near the coast."]
    unrelated = [" ".join(rng.sample(vocabulary, 8)) + "." for _ in range(20)]
    mean_pairwise = detectors.coherence_statistics(topical + unrelated, embeddings)[:, 0]
    assert mean_pairwise[0] > np.median(mean_pairwise[1:])
    assert detectors.function_word_patterns(["I bought it in the store."]) == ["i _ it in the _"]
    rarity = detectors.rarity_statistics(["the the the.", "zzyzx qqqq."], {"the": 1000})
    assert rarity[0, 0] > rarity[1, 0] and rarity[1, 5] == 1.0
