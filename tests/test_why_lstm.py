"""Gradient flow through time: tiny cases with known answers, then the page through AppTest."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.catalog import models
from app.lessons import gradients, memory, reach
from app.lessons.gradients import GradientSetup, clipped_gradient_norms, lstm_gradient_norms, rnn_gradient_norms

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


def test_gradient_chart_has_two_colours_and_powers_of_ten():
    setup = GradientSetup()
    figure = gradients.gradient_figure(rnn_gradient_norms(setup), lstm_gradient_norms(setup))
    assert figure.data[0].line.color != figure.data[1].line.color  # not two shades of the theme's blue
    assert figure.layout.yaxis.type == "log" and figure.layout.yaxis.exponentformat == "power"  # 10⁻¹², not "1p"


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


# ---------------------------------------------------------------- how far back the char-LSTM reads


@pytest.fixture(scope="module")
def lm():
    return models.load_language_model(reach.LM_BUNDLE)


def test_word_probabilities_agree_with_next_words(lm):
    guesses = lm.next_words(reach.DEFAULT_CONTEXT, k=5)
    exact = reach.word_probabilities(lm, reach.DEFAULT_CONTEXT, [w for w, _ in guesses])
    # the beam only sums the word endings among its top characters; word_probabilities sums them all
    assert exact == pytest.approx([p for _, p in guesses], rel=1e-3)
    # Both are float32 passes over the same context in different orders (one batch, or step by step),
    # so they may differ by a few float32 roundings per step of the context: 2.4e-6 was seen on a Xeon.
    rounding = 128 * np.finfo(np.float32).eps  # ≈ 1.5e-5
    assert all(e >= p * (1 - rounding) for e, (_, p) in zip(exact, guesses, strict=True))


def test_compare_contexts_cuts_and_keeps_every_word(lm):
    context = reach.DEFAULT_CONTEXT
    cut = reach.compare_contexts(lm, context, keep=12)
    assert cut.dropped + cut.kept == context and len(cut.kept) == 12
    assert 5 <= len(cut.rows) <= 10
    assert all(0 < r["whole context"] < 1 and 0 < r["last N characters"] < 1 for r in cut.rows)
    whole = reach.compare_contexts(lm, context, keep=10_000)  # more than there is: the whole context
    assert whole.dropped == "" and all(r["change"] == pytest.approx(1.0) for r in whole.rows)


def test_reach_runs_from_nothing_to_the_whole_context(lm):
    by_cut = reach.word_probability_by_cut(lm, "The sleeves are a bit long but the", ["fit", "color"])
    assert by_cut["cuts"][0] == 0 and by_cut["cuts"][-1] == len("The sleeves are a bit long but the")
    assert len(by_cut["fit"]) == len(by_cut["cuts"]) and all(0 < p < 1 for p in by_cut["fit"])
    assert len(reach.reach_figure(by_cut).data) == 2


@pytest.mark.parametrize("text, note", [
    ("", "Type a few words"),
    ("   \n ", "Type a few words"),
    ("😀 so cute 😀", "never saw '😀'"),
    ("x" * 10_000, f"reads the last {reach.CONTEXT_LIMIT}"),
])
def test_check_context_explains_bad_input(lm, text, note):
    checked = reach.check_context(text, lm)
    assert any(note in n for n in checked.notes), checked.notes
    assert len(checked.text) <= reach.CONTEXT_LIMIT


def test_check_context_passes_plain_text_untouched(lm):
    checked = reach.check_context("  I love the <b>colour</b>  ", lm)
    assert checked.text == "I love the <b>colour</b>" and checked.notes == []


@pytest.mark.parametrize("name", list(reach.EXAMPLES))
def test_every_example_shows_a_large_long_range_effect(lm, name):
    """The far words favour ``expected``: with the whole context it is a top-3 guess, and cutting the
    context to the page's opening N more than halves it, three times over."""
    context, expected = reach.EXAMPLES[name]
    comparison = reach.compare_contexts(lm, context, reach.DEFAULT_KEEP)
    assert expected in [row["word"] for row in comparison.rows[:3]], comparison.rows[:3]
    row = next(r for r in comparison.rows if r["word"] == expected)
    assert row["whole context"] >= 3 * row["last N characters"], row
    assert comparison.biggest_change["change"] <= 1 / 3


def test_the_reach_chart_has_one_distinct_colour_per_word_and_marks_the_cut(lm):
    words = ["small", "medium", "xs", "size"]
    figure = reach.reach_figure(reach.word_probability_by_cut(lm, reach.DEFAULT_CONTEXT, words), keep=15)
    colours = [trace.line.color for trace in figure.data]
    assert len(set(colours)) == len(words)
    assert any("your cut: 15" in a.text for a in figure.layout.annotations)




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
