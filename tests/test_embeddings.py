"""The Embeddings interface on small hand-made vectors, and unknown-word suggestions."""

import numpy as np
import pytest

from app.vectors.embeddings import Embeddings, UnknownWords


@pytest.fixture
def emb():
    words = ["dress", "skirt", "gown", "silk", "cotton", "king", "queen", "man", "woman"]
    vectors = np.array([[1, 0, 0], [0.9, 0.1, 0], [0.95, 0, 0.1], [0, 1, 0], [0.1, 0.9, 0],
                        [0, 0, 1], [0.5, 0, 1], [0, 0.2, 1], [0.5, 0.2, 1]], dtype=np.float32)
    return Embeddings("toy", words, vectors)


def test_neighbours_analogy_odd_one_out(emb):
    assert [w for w, _ in emb.most_similar("dress", 2)] == ["gown", "skirt"]
    assert emb.analogy("king", "man", "woman", 1)[0][0] == "queen"
    odd, scores = emb.doesnt_match(["dress", "skirt", "gown", "silk"])
    assert odd == "silk" and set(scores) == {"dress", "skirt", "gown", "silk"}
    assert emb.similarity("silk", "cotton") > emb.similarity("silk", "dress")
    assert emb.similarity("dress", "dress") == pytest.approx(1.0)


def test_unknown_words_get_suggestions(emb):
    with pytest.raises(UnknownWords) as info:
        emb.most_similar("dres")
    assert info.value.suggestions == {"dres": ["dress"]}
    assert "did you mean dress" in str(info.value)
    assert emb.suggest("DRESS") == ["dress"]
    assert emb.suggest("😀") == [] and emb.suggest("") == [] and emb.suggest("x" * 10_000) == []
    with pytest.raises(ValueError):
        emb.doesnt_match(["dress", "silk"])
