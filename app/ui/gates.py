"""Cached Streamlit helpers for the gates page and the playground.

Live typing reruns the page after every pause; caching by (bundle, text) means a rerun caused by
another widget (a different layer, unit or span) never traces the text again, and two visitors
typing the same prefilled sentence share one trace. Results are shared, read-only objects.
"""

from __future__ import annotations

import streamlit as st

from app import ui
from app.lessons import gates
from app.lm.char_lstm import LanguageModel
from app.storage import store


def language_model_or_stop(bundle: str | None) -> LanguageModel:
    """The cached model; for a damaged or tampered file, or none at all, a clear error in the page
    and the run stops."""
    if bundle is None:  # every language model of the store is damaged or missing
        damaged = store.problems()
        st.error("No language model can be loaded: " + (" ".join(damaged) if damaged else
                                                          "the model store holds none (retrain one)."))
        st.stop()
    try:
        return ui.language_model(bundle)
    except store.StoreError as error:
        st.error(f"Cannot load the {bundle} language model: {error}")
        st.stop()


@st.cache_resource(max_entries=24, show_spinner=False)
def gate_trace(bundle: str, text: str) -> gates.GateTrace:
    return gates.trace_text(ui.language_model(bundle), text)


@st.cache_resource(max_entries=24, show_spinner=False)
def next_char_guesses(bundle: str, text: str, k: int = 5) -> list[list[tuple[str, float]]]:
    return gates.guesses_from_trace(ui.language_model(bundle), gate_trace(bundle, text), k)


@st.cache_data(max_entries=64, show_spinner="Searching for the next words…")
def next_words_by_context(bundle: str, context: str, cut_lengths: tuple[int, ...], k: int = 5):
    return ui.language_model(bundle).next_words_by_context(context, list(cut_lengths), k)


def keep_values(defaults: dict[str, object]) -> None:
    """Give the widgets of lazy tabs their values back (the defaults on a session's first run).

    Streamlit forgets the value of a widget that a run does not draw, and a lazy tab draws its
    widgets only while it is open. Setting their keys here, before any widget is drawn, keeps
    them; the widgets are then created without a default of their own (Streamlit warns when a
    widget gets both).
    """
    for key, default in defaults.items():
        st.session_state[key] = st.session_state.get(key, default)
