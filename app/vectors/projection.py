"""Projections of word vectors to 2D and 3D: t-SNE (openTSNE) and PCA.

Computed once per model at training time and stored; the explorer only reads them. Words that
were not projected are still placed: PCA projects any vector exactly; for t-SNE a word goes to
the similarity-weighted mean position of its nearest projected neighbours.
"""

from __future__ import annotations

import numpy as np

from app.vectors.embeddings import Embeddings

TSNE_PARAMS = {"perplexity": 30, "n_iter": 750, "metric": "cosine"}


def tsne(vectors: np.ndarray, dimensions: int, seed: int, perplexity: float = 30, n_iter: int = 750,
         callback=None) -> np.ndarray:
    """openTSNE with PCA initialisation, on one thread.

    Barnes-Hut up to 2,000 points (FFT's fixed grid cost dominates below that, and FFT is 2D
    only); FFT interpolation in 2D above (the stored 4,000-word layouts). One thread: on the 2-core machine a second one mostly
    waits for a busy CPU (500 words under load: 2 s with one, 23-53 s with two).
    """
    from openTSNE import TSNE  # start-up: openTSNE takes ~1.7 s to import, and only training projects

    perplexity = min(perplexity, max(2.0, (len(vectors) - 1) / 3))
    method = "fft" if dimensions == 2 and len(vectors) > 2_000 else "bh"
    model = TSNE(n_components=dimensions, perplexity=perplexity, metric="cosine", n_iter=n_iter,
                 initialization="pca", random_state=seed, n_jobs=1, negative_gradient_method=method,
                 callbacks=callback, callbacks_every_iters=50)
    return np.asarray(model.fit(np.asarray(vectors, dtype=np.float64)), dtype=np.float32)


def pca(vectors: np.ndarray, dimensions: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates, components, mean and the fraction of variance each axis explains.

    An exact SVD in numpy (the analogy tab runs it on each rerun: scikit-learn's checks cost ten
    times the arithmetic for a dozen words). Each component's sign makes its largest entry
    positive, as scikit-learn does, so a layout does not flip between runs."""
    vectors = np.asarray(vectors, dtype=np.float64)
    mean = vectors.mean(axis=0)
    _, singular, components = np.linalg.svd(vectors - mean, full_matrices=False)
    components = components[:dimensions]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    components *= np.where(signs == 0, 1, signs)[:, None]
    variance = singular ** 2
    ratio = variance[:dimensions] / max(float(variance.sum()), 1e-12)
    return (((vectors - mean) @ components.T).astype(np.float32), components.astype(np.float32),
            mean.astype(np.float32), ratio.astype(np.float32))


def trustworthiness(vectors: np.ndarray, coordinates: np.ndarray, k: int = 10) -> float:
    """How well the layout keeps each word's nearest neighbours (1 = perfectly)."""
    from sklearn.manifold import trustworthiness as sk_trustworthiness  # start-up: sklearn.manifold takes ~1.5 s

    return float(sk_trustworthiness(vectors, coordinates, n_neighbors=k, metric="cosine"))


def project_vocabulary(emb: Embeddings, vocabulary: list[str], seed: int) -> tuple[dict, dict]:
    """Arrays to store (words, t-SNE 2D/3D, PCA 3D with its components) and their metrics."""
    vectors = emb.unit[[emb.index[w] for w in vocabulary]]
    pca3, components, mean, variance = pca(vectors, 3)
    tsne2 = tsne(vectors, 2, seed, TSNE_PARAMS["perplexity"], TSNE_PARAMS["n_iter"])
    tsne3 = tsne(vectors, 3, seed, TSNE_PARAMS["perplexity"], TSNE_PARAMS["n_iter"])
    sample = np.random.default_rng(seed).choice(len(vocabulary), size=min(1000, len(vocabulary)), replace=False)
    metrics = {"pca_variance": [round(float(v), 4) for v in variance],
               "trustworthiness_k10": {name: round(trustworthiness(vectors[sample], coords[sample]), 4)
                                       for name, coords in (("tsne2", tsne2), ("tsne3", tsne3),
                                                            ("pca2", pca3[:, :2]), ("pca3", pca3))},
               "tsne_params": TSNE_PARAMS}
    arrays = {"words": np.array(vocabulary), "tsne2": tsne2, "tsne3": tsne3, "pca3": pca3,
              "pca_components": components, "pca_mean": mean, "pca_variance": variance}
    return arrays, metrics
