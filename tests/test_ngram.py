"""The Kneser-Ney n-gram baseline: a hand-computed tiny case, normalisation and back-off on real text."""

from __future__ import annotations

import numpy as np
import pytest

from app.data.corpus import WIKI, load_corpus, tokenize
from app.lm.ngram import KneserNey, estimate_discounts


@pytest.fixture(scope="module")
def wiki_text() -> tuple[str, str]:
    """About 400k characters of wiki-sample's train split, and its validation split."""
    corpus = load_corpus(WIKI)
    return "\n".join(corpus.split("train"))[:400_000], "\n".join(corpus.split("validation"))[:50_000]


def test_a_tiny_corpus_gives_the_hand_computed_probabilities():
    # "abcab", bigrams ab ×2, bc, ca. Too few count-of-counts, so D = 0.5, 1, 1.5.
    # Unigrams by continuation: a, b, c each follow one distinct token; total 3, back-off mass
    # 3 × 0.5 to the uniform 1/4:  P1(a) = (1 - 0.5 + 1.5/4) / 3 = 7/24,  P1(<unk>) = 3/24.
    # After "a": c(ab) = 2, D(2) = 1, back-off mass 1:  P(b|a) = (2 - 1 + 7/24) / 2 = 31/48.
    lm = KneserNey.fit("abcab", order=2)
    assert lm.vocabulary == ["<unk>", "a", "b", "c"]
    np.testing.assert_allclose(np.exp(lm.log_probs("ab")), [7 / 24, 31 / 48])
    np.testing.assert_allclose(lm.distribution("a"), [3 / 48, 7 / 48, 31 / 48, 7 / 48])
    np.testing.assert_allclose(lm.distribution("b"), [3 / 48, 7 / 48, 7 / 48, 31 / 48])


def test_discounts_follow_chen_and_goodman():
    counts = np.array([1] * 10 + [2] * 5 + [3] * 3 + [4] * 2 + [9])  # n1..n4 = 10, 5, 3, 2: Y = 1/2
    np.testing.assert_allclose(estimate_discounts(counts), [0, 1 - 0.5, 2 - 1.5 * 3 / 5, 3 - 2 * 2 / 3])


def test_probabilities_sum_to_one_over_the_vocabulary(wiki_text):
    train, _ = wiki_text
    lm = KneserNey.fit(train, order=5)
    for context in ["", "t", "\nThe ", "the cit", "zzzq", "\u2603\u2603\u2603\u2603"]:
        distribution = lm.distribution(context)
        assert distribution.shape == (len(lm.vocabulary),)
        assert distribution.min() > 0
        assert distribution.sum() == pytest.approx(1.0, abs=1e-9)
    assert lm.vocabulary[int(lm.distribution("the cit").argmax())] == "y"

    words = tokenize(train)
    word_lm = KneserNey.fit(words, order=3)
    for context in [[], ["of"], ["one", "of"], ["unseen-word", "of"]]:
        assert word_lm.distribution(context).sum() == pytest.approx(1.0, abs=1e-9)


def test_an_unseen_context_backs_off_to_its_longest_seen_suffix(wiki_text):
    train, _ = wiki_text
    lm = KneserNey.fit(train, order=4)
    unseen = "\u2603th"  # a character never seen, so this 3-character context never occurred
    np.testing.assert_allclose(lm.distribution(unseen), lm.distribution("th"))
    assert not np.allclose(lm.distribution("th"), lm.distribution("h"))  # a seen context does not


def test_scoring_is_stateful_and_longer_contexts_help_on_held_out_text(wiki_text):
    train, validation = wiki_text
    losses = {order: KneserNey.fit(train, order).nats_per_token(validation) for order in (1, 3, 5)}
    assert losses[1] > losses[3] > losses[5]
    assert 1.5 < losses[5] < 2.5  # nats/char; a 5-gram on 400k characters of Wikipedia
    lm = KneserNey.fit(train, order=5)
    # Chunks carry their history: scoring in pieces of 7 equals one pass over the whole stream.
    assert lm.nats_per_token(validation[:500], chunk=7) == pytest.approx(-lm.log_probs(validation[:500]).mean())


def test_keys_that_would_not_fit_an_int64_are_refused():
    with pytest.raises(ValueError, match="63"):
        KneserNey.fit([str(i) for i in range(5000)], order=5)  # 13 bits × 5 = 65
