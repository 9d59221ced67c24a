"""Streamlit helpers shared by the pages: cached model loading and small display pieces.

This is the one module of ``app/`` (with other ``ui_*`` helpers) that imports Streamlit; the
logic it wraps lives in plain modules so it can be tested and benchmarked without a page.
"""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from app import models
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


PHONE_AGENT = re.compile(r"Mobi|iPhone|Android", re.IGNORECASE)


def on_phone() -> bool:
    """Whether the visitor's browser says it is a phone (its User-Agent; the server cannot see the
    screen). Pages then draw shorter figures that touch can scroll past."""
    headers = st.context.headers
    return bool(headers and PHONE_AGENT.search(headers.get("User-Agent", "")))
