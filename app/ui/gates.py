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


PHONE_LABEL_PX = 12  # no label on a phone smaller than this


def readable(figure: dict) -> dict:
    """On a phone, a gates figure (a plain Plotly spec) with every axis label at least PHONE_LABEL_PX;
    the figure itself is left alone (it may be cached)."""
    if not ui.on_phone():
        return figure
    layout = dict(figure["layout"])
    for name, axis in layout.items():
        if name.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            font = axis.get("tickfont", {})
            layout[name] = axis | {"tickfont": font | {"size": max(PHONE_LABEL_PX, font.get("size", 0))}}
    return {**figure, "layout": layout}


def window_cue(length: int, window: int, what: str = "characters") -> str:
    """Which part of the text a figure first shows, e.g. "characters 85–100 of 100"."""
    first = max(0, length - window) + 1
    cue = f"{what} {first}–{length} of {length}"
    return cue + (": drag the chart sideways for the rest" if first > 1 else "")


def opening_words(bundle: str, lm: LanguageModel, built_in: str) -> str:
    """What a page's text box starts with: ``built_in`` for the app's own models, and for a model
    trained on one's own text the first two words it writes most surely (a jumpsuit is no opening for
    Jane Austen's novels)."""
    if not store.is_user_bundle(bundle):
        return built_in
    written = "".join(lm.generate("", 60, temperature=0.05, seed=0, stop_at="\n"))
    return " ".join(written.split()[:2]) or built_in


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
