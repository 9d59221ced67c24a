"""The embedding explorer's Streamlit pieces: the point-cloud plot (a small component of our own,
``point_cloud.js``), and cached resources: each model's projected space, its colourings and its
cloud, and re-projections keyed by their parameters. The logic is in ``app/explorer/``."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from app import ui
from app.explorer import scenes, space
from app.explorer.space import Colouring, ProjectedSpace, Reprojection

MAX_REPROJECTIONS = 16  # each is at most 2,000 × 3 floats; old ones are dropped first


PLACEHOLDER_WORDS = ("dress", "silk", "linen", "manolo", "king", "music", "river", "city", "coffee", "water")


def placeholder(model_key: str) -> str:
    """The word box's hint: three examples this model knows (its own frequent words if none of ours)."""
    emb = ui.embeddings(model_key)
    known = [w for w in PLACEHOLDER_WORDS if w in emb][:3]
    return "e.g. " + ", ".join(known or emb.most_frequent(3))


@st.cache_resource(show_spinner=False)
def projected_space(model_key: str) -> ProjectedSpace | None:
    arrays = ui.projections(model_key)
    return None if arrays is None else ProjectedSpace.build(ui.embeddings(model_key), arrays)


@st.cache_resource(show_spinner="Clustering the word vectors…")
def colouring(model_key: str, colour: str, clusters: int) -> Colouring:
    projected = projected_space(model_key)
    if colour == "kmeans":
        return space.colour_by_kmeans(projected.words, projected.vectors, clusters)
    return space.colour_by_category(projected.words)


@st.cache_resource(show_spinner=False, max_entries=48)  # ~110 kB each
def cloud(model_key: str, projection: str, colour: str, clusters: int) -> dict:
    """The projected words as the plot's cloud, built once per model, projection and colouring."""
    projected = projected_space(model_key)
    return scenes.cloud_layer(f"{model_key}/{projection}", projected.words, projected.coordinates(projection),
                              colouring(model_key, colour, clusters), f"{colour}/{clusters}")


HERE = Path(__file__).parent
_point_cloud = st.components.v2.component("point_cloud", js=(HERE / "point_cloud.js").read_text(encoding="utf-8"),
                                          css=(HERE / "point_cloud.css").read_text(encoding="utf-8"))


def point_cloud(scene: dict, key: str, on_pick: Callable[[str], None]) -> None:
    """Draw a scene (app/explorer/scenes.py); a click or tap on a word calls ``on_pick(word)``."""

    def picked() -> None:
        word = (st.session_state.get(key) or {}).get("picked")
        if isinstance(word, str) and word:
            on_pick(word)

    _point_cloud(data=scene, key=key, on_picked_change=picked)


@st.cache_resource(show_spinner=False)
def _reprojections() -> tuple[OrderedDict, threading.Lock]:
    return OrderedDict(), threading.Lock()


def cached_reprojection(params: Reprojection) -> tuple[list[str], np.ndarray] | None:
    store, lock = _reprojections()
    with lock:
        return store.get(params)


def reprojection(params: Reprojection) -> tuple[list[str], np.ndarray]:
    """Run (or reuse) a t-SNE of a word's neighbourhood, with a progress bar while it runs."""
    found = cached_reprojection(params)
    if found is not None:
        return found
    bar = st.progress(0.0, text=f"t-SNE of {params.words:,} words around “{params.word}”…")
    result = space.reproject(ui.embeddings(params.model), params,
                                progress=lambda done: bar.progress(done, text=f"t-SNE: {done:.0%}"))
    bar.empty()
    store, lock = _reprojections()
    with lock:
        store[params] = result
        while len(store) > MAX_REPROJECTIONS:
            store.popitem(last=False)
    return result
