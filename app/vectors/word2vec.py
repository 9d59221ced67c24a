"""word2vec: its two architectures, training with gensim, and scoring against human judgements.

Skip-gram predicts the words around a word from the word; CBOW (continuous bag of words)
predicts a word from the words around it. Both learn the vectors ``Embeddings`` serves.
``evaluate_similarity`` scores any ``Embeddings`` (GloVe too) on WordSim-353 and SimLex-999.

    >>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> emb = train_word2vec(sentences, sg=sg_flag("cbow"), vector_size=8, min_count=1, epochs=2)
    >>> emb.name, len(emb)
    ('CBOW', 4)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from app.vectors.embeddings import Embeddings

ARCHITECTURES = {"skipgram": "skip-gram", "cbow": "CBOW"}  # artifact name -> label shown


def sg_flag(name: str) -> int:
    """gensim's ``sg`` flag for an architecture name: 1 for skip-gram, 0 for CBOW."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown word2vec architecture {name!r}: choose one of {', '.join(ARCHITECTURES)}")
    return int(name == "skipgram")


def architecture_name(sg: int) -> str:
    """The artifact name of gensim's ``sg`` flag: ``sg_flag`` read backwards."""
    return "skipgram" if sg else "cbow"


def train_word2vec(sentences: Iterable[list[str]], sg: int = 1, vector_size: int = 100, window: int = 5,
                   min_count: int = 5, epochs: int = 10, seed: int = 1,
                   progress: Callable[[int, int], None] | None = None,
                   go_on: Callable[[], bool] | None = None) -> Embeddings:
    """gensim word2vec. One worker thread, so a fixed seed gives the same vectors every run.

    Trained an epoch at a time, the learning rate falling from epoch to epoch as gensim's one call
    would: ``progress(epoch, epochs)`` after each, and when ``go_on()`` says no, training ends there
    (a time budget) with what the epochs so far taught the vectors."""
    from gensim.models import Word2Vec  # start-up: gensim takes ~1 s to import

    model = Word2Vec(sg=sg, vector_size=vector_size, window=window, min_count=min_count, seed=seed, workers=1)
    model.build_vocab(sentences)
    first, last = model.alpha, model.min_alpha
    for epoch in range(epochs):
        model.train(sentences, total_examples=model.corpus_count, epochs=1,
                    start_alpha=first - (first - last) * epoch / epochs,
                    end_alpha=first - (first - last) * (epoch + 1) / epochs)
        if progress is not None:
            progress(epoch + 1, epochs)
        if go_on is not None and not go_on():
            break
    kv = model.wv
    params = {"vector_size": vector_size, "window": window, "min_count": min_count, "epochs": epochs,
              "sg": sg, "negative": model.negative, "sample": model.sample}
    counts = np.array([kv.get_vecattr(w, "count") for w in kv.index_to_key], dtype=np.int64)
    return Embeddings(ARCHITECTURES[architecture_name(sg)], list(kv.index_to_key), kv.vectors.copy(), counts, params)


# ---------------------------------------------------------------- evaluation

def gensim_test_file(name: str) -> Path:
    import gensim  # start-up: gensim takes ~1 s to import

    return Path(gensim.__file__).parent / "test" / "test_data" / name


def evaluate_similarity(emb: Embeddings) -> dict:
    """Spearman correlation with human similarity judgements (gensim's bundled WordSim-353 and
    SimLex-999), over the pairs whose words are both in the vocabulary, with that coverage."""
    from gensim.models import KeyedVectors  # start-up: gensim takes ~1 s to import

    kv = KeyedVectors(emb.dimensions)
    kv.add_vectors(emb.words, np.asarray(emb.vectors, dtype=np.float32))
    results = {}
    for key, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        try:
            _pearson, spearman, oov_percent = kv.evaluate_word_pairs(gensim_test_file(file), case_insensitive=True)
        except (ValueError, ZeroDivisionError):  # no pair (or one) in the vocabulary: nothing to correlate
            results[key] = {"spearman": None, "coverage": 0.0}
            continue
        rho = float(spearman.statistic)
        # None, shown "n/a": a score that cannot be computed (a non-English or tiny vocabulary)
        results[key] = {"spearman": round(rho, 4) if math.isfinite(rho) else None,
                        "coverage": round(1 - oov_percent / 100, 4)}
    return results
