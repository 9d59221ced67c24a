"""What the app can serve: every embedding model and language model in the store, by key.

Keys are what pages put in menus and URLs: ``fashion-reviews/skipgram``, ``wiki-sample/cbow``,
``user/<name>/skipgram``, ``glove``. Language models are keyed by bundle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app import store
from app.charlm import LanguageModel
from app.embeddings import Embeddings, load_bundle_embeddings, load_glove

GLOVE = "glove"
ARCHITECTURES = {"skipgram": "skip-gram", "cbow": "CBOW"}


@dataclass(frozen=True)
class EmbeddingModel:
    key: str
    label: str
    bundle: str
    artifact: str


def embedding_models() -> list[EmbeddingModel]:
    """Trained word2vec models of every bundle in the store, then GloVe (always available)."""
    models = []
    for bundle in store.bundles():
        if bundle == GLOVE:
            continue
        artifacts = store.read_manifest(bundle)["artifacts"]
        for name, arch in ARCHITECTURES.items():
            if name in artifacts:
                models.append(EmbeddingModel(f"{bundle}/{name}", f"{arch} · {bundle}", bundle, name))
    models.append(EmbeddingModel(GLOVE, "GloVe 6B 50d · general English", GLOVE, GLOVE))
    return models


def embedding_model(key: str) -> EmbeddingModel:
    for model in embedding_models():
        if model.key == key:
            return model
    raise KeyError(f"no embedding model {key!r}")


def load_embeddings(key: str) -> Embeddings:
    model = embedding_model(key)
    return load_glove() if model.key == GLOVE else load_bundle_embeddings(model.bundle, model.artifact)


def load_projections(key: str) -> dict[str, np.ndarray] | None:
    """Stored t-SNE / PCA coordinates of a model's projected words, or None if not computed."""
    model = embedding_model(key)
    name = f"{model.artifact}-projections"
    if name not in store.read_manifest(model.bundle)["artifacts"]:
        return None
    return store.load_arrays(store.verified_path(model.bundle, name))


def language_model_bundles() -> list[str]:
    """Bundles that hold a trained character LSTM."""
    return [b for b in store.bundles() if "lm" in store.read_manifest(b)["artifacts"]]


def load_language_model(bundle: str) -> LanguageModel:
    return store.load_language_model(store.verified_path(bundle, "lm"))
