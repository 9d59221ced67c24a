"""Streamlit helpers shared by the pages: cached model loading and small display pieces.

``app/ui/`` is the one part of ``app/`` that imports Streamlit (``app/serving/`` only starts it and keeps the seam to non-public API); the
logic it wraps lives in plain modules so it can be tested and benchmarked without a page.
"""

from __future__ import annotations

import re
import uuid

import numpy as np
import streamlit as st

from app.catalog import models, resident, user_bundles
from app.lm.char_lstm import LanguageModel
from app.serving import streamlit_seam
from app.storage import store
from app.vectors.embeddings import Embeddings


@st.cache_resource(show_spinner="Loading word vectors…")
def embeddings(key: str) -> Embeddings:
    emb = models.load_embeddings(key)
    _ = emb.unit  # normalise once per process, not on the first query
    return resident.kept_for_good(emb)


@st.cache_resource(show_spinner=False)
def projections(key: str) -> dict[str, np.ndarray] | None:
    return models.load_projections(key)


@st.cache_resource(show_spinner="Loading the language model…")
def language_model(bundle: str) -> LanguageModel:
    return resident.kept_for_good(models.load_language_model(bundle))


PHONE_AGENT = re.compile(r"Mobi|iPhone|Android", re.IGNORECASE)


def on_phone() -> bool:
    """Whether the visitor's browser says it is a phone (its User-Agent; the server cannot see the
    screen). Pages then draw shorter figures that touch can scroll past."""
    if "on_phone" not in st.session_state:  # a session's browser does not change; reading headers costs
        headers = st.context.headers
        st.session_state["on_phone"] = bool(headers and PHONE_AGENT.search(headers.get("User-Agent", "")))
    return st.session_state["on_phone"]


# ---------------------------------------------------------------- whose models

OWNER_COOKIE = "atelier_owner"
OWNER_COOKIE_DAYS = 365


def browser_owner() -> str:
    """This browser's owner token: its uploads and trained models belong to it.

    Kept in a cookie so a reload (a new Streamlit session) is still the same owner. Streamlit
    reads cookies (st.context.cookies) but cannot set them, so a first visit gets a fresh token
    and a one-line script sets the cookie (st.html runs it in the page); until then the session
    remembers the token. The token is random (uuid4): it names nobody, and guessing another is
    hopeless. A browser with cookies off owns its models for as long as its session lasts.
    """
    token = st.session_state.get(OWNER_COOKIE)
    if token:
        return token
    cookie = (st.context.cookies or {}).get(OWNER_COOKIE, "")
    if user_bundles.OWNER_TOKEN.fullmatch(cookie):
        token = cookie
    else:
        token = uuid.uuid4().hex
        st.html(f"<script>document.cookie = '{OWNER_COOKIE}={token}; path=/; "
                f"max-age={OWNER_COOKIE_DAYS * 86400}; SameSite=Lax';</script>", unsafe_allow_javascript=True)
    st.session_state[OWNER_COOKIE] = token
    return token


def embedding_models() -> list[models.EmbeddingModel]:
    """The word-vector models this browser may use: built-in, shared, and its own."""
    return models.embedding_models(browser_owner())


def language_model_bundles() -> list[str]:
    """The character LSTMs this browser may use: built-in, shared, and its own."""
    return models.language_model_bundles(browser_owner())


def store_warnings() -> None:
    """One warning per damaged file of the model store, naming it and how to restore it; the
    pages serve the other models (the damaged ones are left out of the menus)."""
    for problem in store.problems():
        st.warning(f"Damaged model file, left out: {problem}", icon="🩹")


# Streamlit fetches the code of a table (its grid and Arrow reader: 1.2 MB of JavaScript) or a Plotly
# chart (4.7 MB) when a page first draws one, and a visitor waits seconds for it. Loaded while they read
# an earlier page, in the browser's idle time (after the page's own drawing), it is ready when they arrive.
# Which files those are is Streamlit's build layout, read in app/serving/streamlit_seam.py.
TABLE_CHUNKS = streamlit_seam.chart_chunks(streamlit_seam.TABLE_CHUNKS)
PLOTLY_CHUNKS = streamlit_seam.chart_chunks(streamlit_seam.PLOTLY_CHUNKS)
WARM_UP_JS = """
export default function ({ data }) {
  const chunks = [...data.chunks];
  const next = () => {
    const chunk = chunks.shift();
    if (!chunk) return;
    import(new URL(chunk, window.location.origin).href).catch(() => {}).then(later);
  };
  const later = () => (window.requestIdleCallback ? requestIdleCallback(next, { timeout: 3000 }) : setTimeout(next, 1000));
  later();
}
"""
_chart_warm_up = st.components.v2.component("chart_warm_up", js=WARM_UP_JS)


def warm_up_charts(plotly: bool = True) -> None:
    """Have the browser load the table code (and Plotly's, unless ``plotly`` is False) in its idle time,
    one module after the other: the same modules Streamlit imports for a table or a chart, so those
    imports are then instant. Nothing happens if this Streamlit names its files otherwise."""
    chunks = TABLE_CHUNKS + (PLOTLY_CHUNKS if plotly else [])
    if chunks:
        with st.sidebar:  # nothing to see, and the sidebar's end takes no room from a page
            _chart_warm_up(key="chart_warm_up", data={"chunks": [streamlit_seam.STATIC_JS_URL + name for name in chunks]})


def plot_config(**extra) -> dict:
    """Plotly's settings for st.plotly_chart: its toolbar on a desktop, none on a phone (there it is
    always shown and covers titles and legends; a tap shows what hover shows without it)."""
    return {"displaylogo": False, "displayModeBar": not on_phone(), **extra}
