"""Gradient flow through time: tiny cases with known answers, then the page through AppTest."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

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
