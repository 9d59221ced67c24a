"""Gradient flow through time: tiny cases with known answers, then the page through AppTest."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app import memory
from app.gradients import GradientSetup, clipped_gradient_norms, lstm_gradient_norms, rnn_gradient_norms

ROOT = Path(__file__).resolve().parent.parent


def test_linear_identity_rnn_keeps_the_gradient_constant():
    # h_t = h_{t-1} + W_hx x_t: every Jacobian is the identity, so ∂L/∂h_t is the readout at every t
    norms = rnn_gradient_norms(GradientSetup(activation="linear", init="identity", recurrent_scale=1.0))
    assert len(norms) == 150
    assert np.allclose(norms, norms[-1])


def test_sigmoid_with_small_scale_vanishes():
    norms = rnn_gradient_norms(GradientSetup(activation="sigmoid", recurrent_scale=0.5, steps=100))
    assert norms[-1] > 0
    assert norms[0] < 1e-6 * norms[-1]


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_large_scale_explodes(activation):
    norms = rnn_gradient_norms(GradientSetup(activation=activation, recurrent_scale=3.0, steps=100))
    assert np.all(np.isfinite(norms))
    assert norms[0] > 1e6 * norms[-1]


def test_clipping_caps_the_norm_at_the_threshold():
    before, after = clipped_gradient_norms(GradientSetup(activation="relu", recurrent_scale=3.0), threshold=1.0)
    assert before > 1e6
    assert after == pytest.approx(1.0, rel=1e-6)
    # below the threshold clipping leaves the gradient alone
    small_before, small_after = clipped_gradient_norms(GradientSetup(activation="sigmoid", recurrent_scale=0.5), 1e6)
    assert small_after == pytest.approx(small_before)


def test_high_forget_bias_keeps_far_back_gradients_alive():
    remember = lstm_gradient_norms(GradientSetup(forget_bias=5.0))
    forget = lstm_gradient_norms(GradientSetup(forget_bias=-3.0))
    # the loss reads the same last state through the same readout: the end points agree
    assert remember[-1] == pytest.approx(forget[-1])
    assert remember[0] > 1e6 * forget[0]


def test_setup_rejects_unknown_choices():
    with pytest.raises(ValueError):
        GradientSetup(activation="softmax")
    with pytest.raises(ValueError):
        GradientSetup(init="zeros")


def chart_spec(at):
    return at.get("plotly_chart")[0].proto.spec


def test_why_lstm_page_reacts_to_every_control():
    at = AppTest.from_file(str(ROOT / "pages/why_lstm.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Why LSTM?"
    assert len(at.latex) >= 2

    for key, value in [("why_scale", 2.5), ("why_steps", 200), ("why_forget_bias", 5.0)]:
        spec = chart_spec(at)
        at.slider(key=key).set_value(value).run()
        assert not at.exception, at.exception
        assert chart_spec(at) != spec, key

    for key, value in [("why_activation", "relu"), ("why_init", "orthogonal")]:
        spec = chart_spec(at)
        at.selectbox(key=key).set_value(value).run()
        assert not at.exception, at.exception
        assert chart_spec(at) != spec, key

    # relu at scale 2.5 explodes, so the clip threshold is what the "after" metric shows
    at.slider(key="why_clip").set_value(0.5).run()
    assert not at.exception, at.exception
    before, after = (m.value for m in at.metric)
    assert float(before) > 1e3
    assert float(after) == pytest.approx(0.5)


# ---------------------------------------------------------------- long-range memory


def guesses_shown(at):
    table = next(df for df in at.dataframe if "last N characters" in df.value.columns).value
    return dict(zip(table["word"], table["last N characters"], strict=True))


def test_cutting_the_context_changes_the_guesses():
    at = AppTest.from_file(str(ROOT / "pages/why_lstm.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    long_cut = guesses_shown(at)
    at.slider(key="why_cut").set_value(5).run()
    assert not at.exception, at.exception
    short_cut = guesses_shown(at)
    assert short_cut != long_cut
    assert any("the last 5 characters" in m.value for m in at.markdown)  # the cut is shown, too


def test_bad_context_gets_a_message_not_an_exception():
    at = AppTest.from_file(str(ROOT / "pages/why_lstm.py"), default_timeout=60).run()
    for text, note in [("", "Type a few words"), ("😀 🧵 ∑", "never saw"), ("a" * 10_000, "reads the last"),
                       ("<script>alert('hi')</script> the", None)]:
        at.text_area(key="why_context").set_value(text).run()
        assert not at.exception, (text[:20], at.exception)
        notes = " ".join(i.value for i in at.info)
        if note:
            assert note in notes, (text[:20], notes)
    shown = " ".join(m.value for m in at.markdown)
    assert "&lt;script&gt;" in shown and "<script>" not in shown  # shown as text, never run


def test_train_button_draws_a_live_run_over_the_stored_curves():
    at = AppTest.from_file(str(ROOT / "pages/why_lstm.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    at.select_slider(key="why_recall_steps").set_value(25)
    at.slider(key="why_recall_delay").set_value(5)
    at.button(key="why_recall_train").click().run()
    assert not at.exception, at.exception
    results = {m.label: m.value for m in at.metric}
    assert {"plain RNN, T = 5", "LSTM, T = 5"} <= set(results)
    assert all(v.endswith("%") for label, v in results.items() if "T = 5" in label)
    recall_chart = next(c for c in at.get("plotly_chart") if "your runs" in c.proto.spec)
    assert "recall accuracy" in recall_chart.proto.spec
    assert any("cross-entropy loss" in c.proto.spec for c in at.get("plotly_chart"))  # the run's loss curves
    at.button(key="why_recall_train").click().run()  # the same run again comes from the cache
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric} == results
    with memory.LIVE_TRAINING:  # another visitor's run is going: a message, not a second run
        at.number_input(key="why_recall_seed").set_value(7)
        at.button(key="why_recall_train").click().run()
    assert not at.exception, at.exception
    assert any("Another visitor" in i.value for i in at.info)
    at.button(key="why_recall_clear").click().run()
    assert not at.exception, at.exception
    assert not any("T = 5" in m.label for m in at.metric)
