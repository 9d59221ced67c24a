"""Cached pieces of the "Why LSTM?" page: the char-LSTM's guesses, the recall curves, live runs.

Everything here is deterministic for its arguments, so one visitor's result is every visitor's:
at a meetup most people keep the default context and the default T, and get it instantly.
"""

from __future__ import annotations

import streamlit as st

from app import ui
from app.lessons import memory, reach
from app.lessons.memory import RecallConfig, RecallCurves, RecallResult


@st.cache_data(max_entries=512, show_spinner="The LSTM is guessing…")
def compare_contexts(bundle: str, context: str, keep: int) -> reach.ContextComparison:
    return reach.compare_contexts(ui.language_model(bundle), context, keep)


# Figures are cached as objects (cache_resource, not copied): building a plotly figure costs more
# than drawing it, and every rerun of the page, a gradient slider's too, draws all of them.


@st.cache_resource(max_entries=128, show_spinner="Cutting the context…")
def reach_figure(bundle: str, context: str, words: tuple[str, ...], keep: int):
    return reach.reach_figure(reach.word_probability_by_cut(ui.language_model(bundle), context, list(words)), keep)


@st.cache_resource(show_spinner=False)
def recall_curves() -> RecallCurves:
    return memory.load_curves()


def recall_figure(runs: list[RecallResult]):
    """The stored curves with this visitor's runs, drawn once per distinct set of runs."""
    return _recall_figure(tuple((r.cell, r.delay, r.seed, r.steps, r.accuracy) for r in runs), runs)


@st.cache_resource(max_entries=256, show_spinner=False)
def _recall_figure(key: tuple, _runs: list[RecallResult]):
    return memory.recall_figure(recall_curves(), _runs)


@st.cache_resource(show_spinner=False)
def _live_runs() -> dict[tuple[int, int, int], list[RecallResult]]:
    return {}


def train_both(delay: int, seed: int, steps: int, progress=None) -> list[RecallResult]:
    """A live run, or the same run done before in this process (same arguments, same numbers).

    Not st.cache_data: that would replay the progress-bar updates into a bar that no longer
    exists. Raises memory.TrainingBusy while another visitor's run is going.
    """
    runs, key = _live_runs(), (delay, seed, steps)
    if key not in runs:
        results = memory.train_both(delay, RecallConfig(steps=steps), seed, progress, seconds=memory.LIVE_SECONDS)
        if any(r.stopped == "time" for r in results):
            return results  # cut short by a busy CPU: another try may get further, so don't keep it
        if len(runs) >= 256:
            runs.pop(next(iter(runs)))  # the oldest: keeps the memory bounded
        runs[key] = results
    return runs[key]
