"""Streamlit helpers shared by the pages: cached model loading and small display pieces.

This is the one module of ``app/`` (with other ``ui_*`` helpers) that imports Streamlit; the
logic it wraps lives in plain modules so it can be tested and benchmarked without a page.
"""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from app import models, store
from app.charlm import LanguageModel
from app.embeddings import Embeddings


@st.cache_resource(show_spinner="Loading word vectors…")
def embeddings(key: str) -> Embeddings:
    emb = models.load_embeddings(key)
    _ = emb.unit  # normalise once per process, not on the first query
    return emb


@st.cache_resource(show_spinner=False)
def projections(key: str) -> dict[str, np.ndarray] | None:
    return models.load_projections(key)


@st.cache_resource(show_spinner="Loading the language model…")
def language_model(bundle: str) -> LanguageModel:
    return models.load_language_model(bundle)


def store_error_box(error: store.StoreError) -> None:
    st.error(f"Model store problem: {error}", icon="🧯")


def escape(text: str) -> str:
    """Everything user- or model-written goes through this before it is rendered as HTML."""
    return html.escape(text, quote=True)
