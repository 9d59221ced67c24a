"""Cached pieces of the "Why LSTM?" page: the char-LSTM's guesses, the recall curves, live runs.

Everything here is deterministic for its arguments, so one visitor's result is every visitor's:
at a meetup most people keep the default context and the default T, and get it instantly.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from app import ui
from app.lessons import memory, reach
from app.lessons.memory import RecallConfig, RecallCurves, RecallResult


@st.cache_data(max_entries=512, show_spinner="The LSTM is guessing…")
def compare_contexts(bundle: str, context: str, keep: int) -> reach.ContextComparison:
    return reach.compare_contexts(ui.language_model(bundle), context, keep)


PHONE_CHART_HEIGHT = 300  # a chart and the controls that move it share one phone screen


def show_chart(figure: go.Figure, key: str) -> None:
    """A Plotly chart; on a phone one that a vertical swipe scrolls past (no drag to zoom or pan:
    dragmode off and fixed axes), shorter, and without the toolbar (ui.plot_config)."""
    if ui.on_phone():
        figure = go.Figure(figure)  # a copy: cached figures are every visitor's
        figure.update_layout(dragmode=False, height=min(figure.layout.height or PHONE_CHART_HEIGHT, PHONE_CHART_HEIGHT))
        figure.update_xaxes(fixedrange=True)
        figure.update_yaxes(fixedrange=True)
    st.plotly_chart(figure, key=key, config=ui.plot_config(scrollZoom=False))


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
