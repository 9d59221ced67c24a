"""A model's precomputed layouts (t-SNE 2D/3D, PCA), where words outside them are placed, how the
points are coloured (fashion category or k-means), and a fresh t-SNE of one neighbourhood."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from app.data.lexicon import FASHION_CATEGORIES, OTHER, category_of
from app.vectors.embeddings import Embeddings
from app.vectors.projection import tsne

PROJECTIONS = {"tsne3": "t-SNE 3D", "tsne2": "t-SNE 2D", "pca3": "PCA 3D", "pca2": "PCA 2D"}
COLOURINGS = {"category": "fashion category", "kmeans": "k-means cluster"}
PLACEMENT_NEIGHBOURS = 10  # a t-SNE newcomer sits at the weighted mean of this many projected words

CATEGORY_COLOURS = {
    "garments": "#d62728", "fabrics": "#8c564b", "colours": "#e377c2", "fit and sizes": "#1f77b4",
    "body": "#ff7f0e", "details": "#17becf", "occasions": "#2ca02c", "designers and brands": "#9467bd",
    "footwear and accessories": "#bcbd22", OTHER: "#c7c7c7",
}
CLUSTER_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                   "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
                   "#e6550d", "#31a354", "#756bb1", "#636363", "#6baed6", "#fd8d3c", "#74c476", "#9e9ac8",
                   "#969696", "#9c9ede", "#cedb9c", "#e7ba52", "#e7969c", "#de9ed6"]


# ---------------------------------------------------------------- the precomputed layouts

@dataclass
class ProjectedSpace:
    """A model's projected words, their unit vectors and stored coordinates (t-SNE, PCA)."""

    words: list[str]
    vectors: np.ndarray  # unit vectors of ``words``, the ones t-SNE and PCA saw
    arrays: dict[str, np.ndarray]  # as stored: tsne2, tsne3, pca3, pca_components, pca_mean, pca_variance

    def __post_init__(self):
        self.position = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, emb: Embeddings, arrays: Mapping[str, np.ndarray]) -> ProjectedSpace:
        words = arrays["words"].tolist()
        keep = np.array([w in emb for w in words])
        words = [w for w, k in zip(words, keep, strict=True) if k]
        stored = {name: (a[keep] if name in ("tsne2", "tsne3", "pca3") else a) for name, a in arrays.items()
                  if name != "words"}
        return cls(words, emb.unit[[emb.index[w] for w in words]], stored)

    def coordinates(self, projection: str) -> np.ndarray:
        return self.arrays["pca3"][:, :2] if projection == "pca2" else self.arrays[projection]

    def axis_titles(self, projection: str) -> list[str]:
        dims = 2 if projection.endswith("2") else 3
        if projection.startswith("pca"):
            return [f"PC{i + 1} ({v:.1%} of variance)" for i, v in enumerate(self.arrays["pca_variance"][:dims])]
        return [f"t-SNE {i + 1}" for i in range(dims)]

    def place(self, vectors: np.ndarray, projection: str) -> np.ndarray:
        """Coordinates for unit vectors that were not projected. PCA is a linear map, so it
        projects them exactly; t-SNE has no such map, so each goes to the similarity-weighted
        mean position of its PLACEMENT_NEIGHBOURS nearest projected words."""
        dims = 2 if projection.endswith("2") else 3
        if projection.startswith("pca"):
            return ((vectors - self.arrays["pca_mean"]) @ self.arrays["pca_components"].T)[:, :dims]
        scores = vectors @ self.vectors.T
        k = min(PLACEMENT_NEIGHBOURS, len(self.words))
        nearest = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        weights = np.maximum(np.take_along_axis(scores, nearest, axis=1), 1e-6)
        coords = self.coordinates(projection)[nearest]  # (words, k, dims)
        return (weights[:, :, None] * coords).sum(axis=1) / weights.sum(axis=1, keepdims=True)

    def positions(self, words: list[str], emb: Embeddings, projection: str) -> tuple[np.ndarray, list[bool]]:
        """Coordinates of any known words: stored ones as stored, the others placed."""
        stored = self.coordinates(projection)
        placed = [w not in self.position for w in words]
        coords = np.zeros((len(words), stored.shape[1]), dtype=np.float32)
        for i, word in enumerate(words):
            if not placed[i]:
                coords[i] = stored[self.position[word]]
        if any(placed):
            outside = [i for i, p in enumerate(placed) if p]
            coords[outside] = self.place(emb.unit[[emb.index[words[i]] for i in outside]], projection)
        return coords, placed


def placement_note(projection: str) -> str:
    if projection.startswith("pca"):
        return "PCA is a linear map, so a word outside the projected set is projected exactly."
    return (f"t-SNE has no map for new points: a word outside the projected set sits at the similarity-weighted "
            f"mean position of its {PLACEMENT_NEIGHBOURS} nearest projected words.")


# ---------------------------------------------------------------- colouring

@dataclass
class Colouring:
    """A group name for every projected word, and each group's colour (legend order)."""

    groups: list[str]
    colours: dict[str, str]


def colour_by_category(words: list[str]) -> Colouring:
    groups = [category_of(w) for w in words]
    present = set(groups)
    order = [name for name in [*FASHION_CATEGORIES, OTHER] if name in present]
    return Colouring(groups, {name: CATEGORY_COLOURS[name] for name in order})


def colour_by_kmeans(words: list[str], vectors: np.ndarray, k: int, seed: int = 0) -> Colouring:
    """k-means on the original unit vectors (not on the layout); each cluster is named after the
    three words closest to its centre."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    k = max(1, min(k, len(words)))
    with threadpool_limits(1):  # BLAS threads fighting over two shared cores made it 20× slower
        model = KMeans(n_clusters=k, n_init=3, random_state=seed).fit(vectors)
    names = []
    for cluster, centre in enumerate(model.cluster_centers_):
        members = np.flatnonzero(model.labels_ == cluster)
        closest = members[np.argsort(-(vectors[members] @ centre))[:3]]
        names.append(f"{cluster + 1}: {', '.join(words[i] for i in closest)}")
    groups = [names[label] for label in model.labels_]
    return Colouring(groups, {name: CLUSTER_COLOURS[i % len(CLUSTER_COLOURS)] for i, name in enumerate(names)})


# ---------------------------------------------------------------- re-projection

@dataclass(frozen=True)
class Reprojection:
    """A fresh t-SNE of one word's neighbourhood; frozen so it can key a cache."""

    model: str
    word: str
    words: int = 500
    dimensions: int = 3
    perplexity: float = 30.0
    iterations: int = 500
    seed: int = 1

def neighbourhood(emb: Embeddings, word: str, size: int) -> list[str]:
    """The word and its size − 1 nearest neighbours."""
    return [word, *(w for w, _ in emb.most_similar(word, max(1, size - 1)))]


def reproject(emb: Embeddings, params: Reprojection,
              progress: Callable[[float], None] | None = None) -> tuple[list[str], np.ndarray]:
    """openTSNE on the neighbourhood (Barnes-Hut, one thread), reporting progress in [0, 1]."""
    words = neighbourhood(emb, params.word, params.words)
    early_iterations = 250  # openTSNE's early-exaggeration phase runs before ``n_iter``
    total_reports = (early_iterations + params.iterations) / 50
    reports = 0

    def report(iteration, error, embedding):
        nonlocal reports
        reports += 1
        if progress is not None:
            progress(min(1.0, reports / total_reports))
        return False

    coords = tsne(emb.unit[[emb.index[w] for w in words]], params.dimensions, params.seed,
                  params.perplexity, params.iterations, callback=report)
    return words, coords


