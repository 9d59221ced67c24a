"""What the app can serve: every embedding model and language model in the store, by key.

Keys are what pages put in menus and URLs: ``fashion-reviews/skipgram``, ``wiki-sample/cbow``,
``user/<name>/skipgram``, ``glove``. Language models are keyed by bundle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.catalog import user_bundles
from app.lm import char_lstm
from app.lm.char_lstm import LanguageModel
from app.storage import store
from app.vectors.embeddings import Embeddings, load_bundle_embeddings, load_glove
from app.vectors.word2vec import ARCHITECTURES

GLOVE = "glove"


@dataclass(frozen=True)
class EmbeddingModel:
    key: str
    label: str
    bundle: str
    artifact: str


def usable_bundles(viewer: str | None = None) -> dict[str, dict]:
    """Bundles whose manifest reads, and which the viewer may use (user bundles: their own and
    the shared ones; None: shared ones only, as for the whole room): bundle -> artifacts."""
    usable = {}
    for bundle in store.bundles():
        if store.is_user_bundle(bundle) and not user_bundles.can_use(bundle, viewer):
            continue
        try:
            usable[bundle] = store.cached_manifest(bundle)["artifacts"]
        except store.StoreError:
            continue  # store.problems() names it on every page
    return usable


def embedding_models(viewer: str | None = None) -> list[EmbeddingModel]:
    """Sound word2vec models of every bundle the viewer may use, then GloVe (always available).
    A damaged file is left out of the menus (store.problems() says what to restore)."""
    models = []
    for bundle, artifacts in usable_bundles(viewer).items():
        if bundle == GLOVE:
            continue
        for name, arch in ARCHITECTURES.items():
            if name in artifacts and store.artifact_problem(bundle, name) is None:
                models.append(EmbeddingModel(f"{bundle}/{name}", f"{arch} · {bundle}", bundle, name))
    models.append(EmbeddingModel(GLOVE, "GloVe 6B 50d · general English", GLOVE, GLOVE))
    return models


def load_embeddings(key: str) -> Embeddings:
    if key == GLOVE:
        return load_glove()
    bundle, artifact = key.rsplit("/", 1)
    return load_bundle_embeddings(bundle, artifact)


def load_projections(key: str) -> dict[str, np.ndarray] | None:
    """Stored t-SNE / PCA coordinates of a model's projected words, or None if not computed or
    damaged (store.problems() names the damaged file)."""
    bundle, artifact = (GLOVE, GLOVE) if key == GLOVE else key.rsplit("/", 1)
    name = f"{artifact}-projections"
    try:
        if name not in store.cached_manifest(bundle)["artifacts"]:
            return None
        return store.load_arrays(store.verified_path(bundle, name))
    except store.StoreError:
        return None


def language_model_bundles(viewer: str | None = None) -> list[str]:
    """Bundles the viewer may use that hold a sound character LSTM (None: the shared ones, the
    room's decks)."""
    return [b for b, artifacts in usable_bundles(viewer).items()
            if "lm" in artifacts and store.artifact_problem(b, "lm") is None]


def load_language_model(bundle: str) -> LanguageModel:
    return char_lstm.load_language_model(store.verified_path(bundle, "lm"))
