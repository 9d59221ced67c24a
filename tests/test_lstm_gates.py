"""LSTM gates, live: the traced gates obey the LSTM equations, the figures have one column per
character, typed HTML is shown literally, and the page survives empty, exotic and huge input."""

import json

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from app.catalog import models
from app.lessons import gates
from app.lessons.highlight import (
    MIN_CONTRAST,
    RANK_BUCKETS,
    Piece,
    diverging_colour,
    pieces_html,
    probability_colour,
    readable_colours,
)
from app.lm.char_lstm import DOCUMENT_BREAK
from app.lm.gate_trace import GATES, trace_gates
from tests.conftest import ROOT

BUNDLE = "wiki-sample"  # always committed, and the smaller of the two models
TEXT = "The silk blouse (size 8) fits well.\nIt washes fine."


@pytest.fixture(scope="module")
def lm():
    return models.load_language_model(BUNDLE)


@pytest.fixture(scope="module")
def trace(lm):
    return gates.trace_text(lm, TEXT)


# ---------------------------------------------------------------- the tracer and the equations

def test_trace_has_one_row_per_character_for_every_gate(lm, trace):
    assert len(trace.layers) == lm.model.config.layers
    for layer in trace.layers:
        assert set(layer) == set(GATES)
        for values in layer.values():
            assert values.shape == (len(TEXT), lm.model.config.hidden_size)


def test_gates_are_in_zero_one_and_states_follow_the_equations(trace):
    for layer, start_cell in zip(trace.layers, trace.start_cells, strict=True):
        for gate in gates.SIGMOID_GATES:
            # σ lies in (0, 1); in float32 a saturated gate rounds to exactly 0 or 1
            assert np.all((layer[gate] >= 0) & (layer[gate] <= 1)), gate
        assert np.all(np.abs(layer["candidate"]) <= 1)
        previous_cell = np.vstack([start_cell, layer["cell"][:-1]])
        cell = layer["forget"] * previous_cell + layer["input"] * layer["candidate"]
        np.testing.assert_allclose(layer["cell"], cell, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(layer["hidden"], layer["output"] * np.tanh(layer["cell"]), atol=1e-5)


def test_traced_hidden_states_match_torch_lstm(lm, trace):
    ids = torch.tensor([lm.vocab.encode(DOCUMENT_BREAK + TEXT)])
    with torch.no_grad():
        outputs, (h_last, c_last) = lm.model.lstm(lm.model.embed(ids))
    np.testing.assert_allclose(trace.layers[-1]["hidden"], outputs[0, 1:].numpy(), atol=1e-5)
    for layer, (h, c) in enumerate(zip(h_last[:, 0], c_last[:, 0], strict=True)):
        np.testing.assert_allclose(trace.layers[layer]["hidden"][-1], h.numpy(), atol=1e-5)
        np.testing.assert_allclose(trace.layers[layer]["cell"][-1], c.numpy(), rtol=1e-5, atol=1e-5)  # |c| reaches 40


def test_fast_tracer_equals_the_step_by_step_equations(lm):
    ids = lm.vocab.encode(DOCUMENT_BREAK + TEXT)
    reference, fast = trace_gates(lm.model, ids), gates.fast_trace_gates(lm.model, ids)
    for reference_layer, fast_layer in zip(reference, fast, strict=True):
        for gate in GATES:
            np.testing.assert_allclose(fast_layer[gate], reference_layer[gate], rtol=1e-4, atol=1e-5, err_msg=gate)


def test_guesses_read_off_the_trace_equal_the_models(lm, trace):
    from_trace, from_model = gates.guesses_from_trace(lm, trace), lm.next_char_guesses(TEXT)
    assert len(from_trace) == len(TEXT)
    for ours, theirs in zip(from_trace, from_model, strict=True):
        assert [c for c, _ in ours] == [c for c, _ in theirs]
        np.testing.assert_allclose([p for _, p in ours], [p for _, p in theirs], atol=1e-5)


@pytest.mark.parametrize("position", [0, 1, len(TEXT) - 1])
def test_equation_numbers_recompute_the_traced_states(trace, position):
    numbers = gates.equation_numbers(trace, layer_index=1, unit=5, position=position)
    layer = trace.layers[1]
    assert numbers.char == TEXT[position]
    assert numbers.forget == pytest.approx(layer["forget"][position, 5])
    cell = numbers.forget * numbers.cell_before + numbers.input * numbers.candidate
    assert cell == pytest.approx(layer["cell"][position, 5], abs=1e-5)
    latex = gates.equations_latex(numbers)
    assert f"= {layer['cell'][position, 5]:+.3f}" in latex
    assert f"= {layer['hidden'][position, 5]:+.3f}" in latex
    assert latex.count(r"\\") == 5  # six equations, one per line


def test_unknown_characters_and_emoji_are_traced_as_the_unknown_id(lm):
    text = "soft 😀 wrap ☃"
    assert gates.unknown_characters(lm, text) == sorted({"😀", "☃"})
    traced = gates.trace_text(lm, text)
    assert traced.layers[0]["hidden"].shape[0] == len(text)
    assert np.all(np.isfinite(traced.layers[0]["cell"]))


def test_empty_text_traces_to_no_rows(lm):
    traced = gates.trace_text(lm, "")
    assert traced.layers[0]["input"].shape == (0, lm.model.config.hidden_size)
    assert gates.select_units(traced.layers[0]["hidden"], "most variable", 4)  # still a valid choice


def test_markdown_literal_escapes_what_markdown_would_format():
    assert gates.markdown_literal("**x** $1 [a](b) <i>") == r"\*\*x\*\* \$1 \[a\]\(b\) \<i\>"
    assert gates.markdown_literal("plain words") == "plain words"


def test_long_text_is_truncated_with_a_notice():
    limited = gates.limit_text("a" * 1500)
    assert len(limited.text) == gates.MAX_CHARS and limited.truncated
    assert "1,500" in gates.truncation_notice(limited)
    assert gates.truncation_notice(gates.limit_text("short")) is None
    assert gates.limit_text(None).text == ""


# ---------------------------------------------------------------- units, saturation, find cells

def test_unit_selection():
    values = np.zeros((10, 6))
    values[:, 2] = np.linspace(-1, 1, 10)  # the most variable unit
    values[:, 4] = 0.9  # the most active (constant, so not variable)
    assert gates.select_units(values, "most variable", 1) == [2]
    assert gates.select_units(values, "most active", 1) == [4]
    assert gates.select_units(values, "by index", 0, [5, 1, 5, 99, -1]) == [5, 1]
    with pytest.raises(ValueError):
        gates.select_units(values, "loudest", 3)


def test_parse_unit_indices():
    assert gates.parse_unit_indices("3, 17 20-22", 64) == ([3, 17, 20, 21, 22], [])
    assert gates.parse_unit_indices("1, 70, x, 9-5, 2", 64) == ([1, 2], ["70", "x", "9-5"])
    assert gates.parse_unit_indices("", 64) == ([], [])


def test_saturation_fractions():
    layer = {gate: np.full((4, 2), 0.5) for gate in gates.SIGMOID_GATES}
    layer["forget"][:, 0] = [0.95, 0.99, 0.5, 0.05]
    low, high = gates.saturation(layer)["forget"]
    assert low.tolist() == [0.25, 0.0] and high.tolist() == [0.5, 0.0]
    figure = gates.saturation_figure(layer)
    assert [len(t["x"]) for t in figure["data"] if t["mode"] == "markers"] == [2, 2, 2]


def test_find_cells_ranks_the_unit_that_marks_the_span_first():
    values = np.random.default_rng(0).normal(0, 0.1, (30, 8))
    values[10:15, 6] += 0.9  # unit 6 lights up inside the span
    values[10:15, 3] -= 0.5  # unit 3 switches off inside it
    ranked = gates.rank_span_units(values, 10, 14, count=3)
    assert [c.unit for c in ranked[:2]] == [6, 3]
    assert ranked[0].difference > 0.8 and ranked[1].difference < -0.4
    whole = gates.rank_span_units(values, 0, 29, count=1)[0]
    assert whole.outside == 0.0  # the whole text is compared with zero
    assert gates.rank_span_units(values, 5, 4) == []


def test_default_span_prefers_brackets_then_the_last_word():
    text = 'A "petite" fit (size 2) here'
    first, last = gates.default_span(text)
    assert text[first:last + 1] == "petite"
    first, last = gates.default_span("cosy wool jumper")
    assert "cosy wool jumper"[first:last + 1] == "jumper"
    assert gates.default_span("?!") == (0, 1)


# ---------------------------------------------------------------- figures and HTML

def test_heatmaps_have_one_labelled_column_per_character(trace):
    text = "a b\n<c>"
    values = np.arange(len(text) * 4, dtype=float).reshape(len(text), 4)
    figure = gates.heatmap_figure([("input", values / values.max()), ("cell", values)], [3, 1], text, span=(1, 2))
    heatmaps = figure["data"]
    assert [h["z"].shape for h in heatmaps] == [(2, len(text))] * 2
    assert heatmaps[0]["z"][0, 4] == pytest.approx(values[4, 3] / values.max())
    axis = figure["layout"]["xaxis"]
    assert axis["ticktext"] == ["a", "␣", "b", "⏎", "&lt;", "c", "&gt;"]
    assert len(set(heatmaps[0]["x"])) == len(text)  # repeated characters still get their own column
    assert len(figure["layout"]["shapes"]) == 2


def test_cell_view_escapes_html_and_lists_guesses(lm):
    text = "<script>alert(1)</script>"
    traced = gates.trace_text(lm, text)
    guesses = lm.next_char_guesses(text)
    html = pieces_html(gates.cell_pieces(text, "cell", traced.layers[0]["cell"][:, 0], guesses))
    assert "<script" not in html and "&lt;" in html
    assert html.count("<span") == len(text)
    assert "next:" in html


def channels(colour: str) -> list[int]:
    """The red, green and blue of a colour written as #rgb, #rrggbb or rgb(r,g,b)."""
    if colour.startswith("rgb("):
        return [int(v) for v in colour[4:-1].split(",")]
    digits = colour[1:] if len(colour) == 7 else "".join(2 * d for d in colour[1:])
    return [int(digits[i:i + 2], 16) for i in (0, 2, 4)]


def contrast(text: str, background: str) -> float:
    """WCAG contrast ratio of two colours written as #rgb, #rrggbb or rgb(r,g,b)."""
    def luminance(colour):
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
                  for c in channels(colour)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted([luminance(text), luminance(background)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("value", np.linspace(-1, 1, 41))
def test_cell_view_letters_read_at_7_to_1_at_any_value(value):
    background = diverging_colour(value)
    # the scale stays where black letters read: no cell is recoloured, no letter flips to white mid-word
    assert readable_colours(background) == (background, "#000")
    assert contrast("#000", background) >= MIN_CONTRAST, (value, background)  # WCAG AAA, as the stage asks
    assert f"background:{background};color:#000" in pieces_html([Piece("a", background)])


@pytest.mark.parametrize(("background", "text"), [
    ("rgb(255,0,0)", "#fff"),  # the old scale's red end: 5.3:1 under black, 4.0:1 under white
    ("rgb(255,50,50)", "#000"),  # the old scale's 0.8: 4.8:1 under black (the stage measured 4.79:1)
    ("rgb(102,102,255)", "#000"),  # the old scale's -0.6: 4.0:1 under black
    ("#CC79A7", "#000"),  # Okabe-Ito reddish purple: 6.9:1 under black
    ("#0072B2", "#fff"),  # Okabe-Ito blue: 5.3:1 under white
])
def test_a_mid_colour_is_nudged_just_enough_toward_the_readable_side(background, text):
    shown, chosen = readable_colours(background)
    assert chosen == text and 7.0 <= contrast(chosen, shown) < 7.2, (shown, contrast(chosen, shown))
    change = max(abs(a - b) for a, b in zip(channels(shown), channels(background), strict=True))
    print(f"{background} -> {shown} under {chosen}: {contrast(chosen, shown):.2f}:1, channels moved {change}")
    assert change <= 80  # the same hue, a little lighter or darker


@pytest.mark.parametrize("background", [*(colour for _, _, colour in RANK_BUCKETS), "#ffffff", "#000000",
                                        *(probability_colour(p) for p in np.linspace(0, 1, 11))])
def test_readable_colours_keep_and_pick_the_better_text_on_the_apps_palettes(background):
    shown, text = readable_colours(background)
    assert shown == background  # each already reads at 7:1 under black or white
    assert text == max(("#000", "#fff"), key=lambda t: contrast(t, background))
    assert contrast(text, background) >= MIN_CONTRAST


def test_a_tap_shows_what_hover_shows():
    html = pieces_html([Piece("a", "#ffffff", 'P = 0.5 <"next">'), Piece("b", "transparent")])
    assert 'title="P = 0.5 &lt;&quot;next&quot;&gt;"' in html and 'data-tip="P = 0.5 &lt;&quot;next&quot;&gt;"' in html
    assert html.count('tabindex="0"') == 1  # only pieces with something to show take a tap
    assert ":focus::after{content:attr(data-tip)" in html
    assert "color:inherit" in html  # no background: the theme's own text colour (dark mode too)


def test_a_phone_sees_a_narrow_window_of_readable_columns():
    text = "x" * 300
    values = np.zeros((300, 2))
    assert gates.heatmap_figure([("input", values)], [0], text, window=gates.PHONE_WINDOW)["layout"]["xaxis"]["range"] \
        == (300 - gates.PHONE_WINDOW - 0.5, 299.5)
    guesses = [[("a", 0.5)]] * 300
    assert gates.guesses_figure(guesses, text, gates.PHONE_WINDOW)["layout"]["xaxis"]["range"] == \
        (300 - gates.PHONE_WINDOW - 0.5, 299.5)


# ---------------------------------------------------------------- the page

def heatmap_columns(at) -> list[int]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    shapes = [trace["z"]["shape"] if isinstance(trace["z"], dict) else f"{len(trace['z'])}, {len(trace['z'][0])}"
              for trace in spec["data"]]
    return [int(shape.split(",")[1]) for shape in shapes]


def open_tab(at, label: str):
    """Tabs are lazy: only the one in view runs. A browser click sets this same state."""
    at.session_state["gates_tab"] = label
    return at.run()


def test_page_follows_typing():
    at = AppTest.from_file(str(ROOT / "pages/lstm_gates.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "LSTM gates, live"
    at.selectbox(key="gates_bundle").set_value(BUNDLE).run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1  # only the heatmaps tab ran

    typed = "The wrap dress fits 👗 <b>well</b>"
    at.text_input(key="gates_text").input(typed).run()
    assert not at.exception, at.exception
    assert heatmap_columns(at) == [len(typed)] * len(GATES)
    assert any("👗" in info.value for info in at.info)  # the unknown character is named

    open_tab(at, "One cell")
    assert not at.exception, at.exception
    html = "".join(m.value for m in at.markdown)
    assert "<b>" not in html and ">&lt;</span>" in html  # one span per character, each escaped
    assert heatmap_columns(at) == [len(typed)]  # the guess strip: one column per character too

    at.text_input(key="gates_text").input("<script>alert('hi')</script>").run()
    assert not at.exception, at.exception
    html = "".join(m.value for m in at.markdown)
    assert "<script" not in html and ">&lt;</span>" in html

    open_tab(at, "Equations")
    assert not at.exception, at.exception
    assert len(at.latex) == 1 and r"\tanh" in at.latex[0].value

    open_tab(at, "Find cells")
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == 10
    html = "".join(m.value for m in at.markdown)
    assert "<script" not in html and "&lt;script&gt;" in html
    at.select_slider(key=f"gates_span_{len(at.text_input(key='gates_text').value)}").set_value((1, 6)).run()
    assert not at.exception, at.exception
    assert any('title="selected span" data-tip="selected span" tabindex="0">script<' in m.value for m in at.markdown)

    open_tab(at, "Saturation")
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1

    open_tab(at, "Heatmaps")
    at.radio(key="gates_unit_choice").set_value("by index").run()
    at.text_input(key="gates_unit_indices").input("1-3, 999, **x**").run()
    assert not at.exception, at.exception
    assert any("999" in w.value and r"\*\*x\*\*" in w.value for w in at.warning)  # shown as typed
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["y"] == ["#1", "#2", "#3"]

    at.text_input(key="gates_text").input("x" * 1200).run()
    assert not at.exception, at.exception
    assert any("1,200" in w.value for w in at.warning)
    assert heatmap_columns(at)[0] == gates.MAX_CHARS

    at.text_input(key="gates_text").input("").run()
    assert not at.exception, at.exception
    assert any("Type some text" in info.value for info in at.info)
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("tab", ["Heatmaps", "One cell", "Saturation", "Equations", "Find cells"])
def test_every_tab_takes_a_one_character_text_on_the_second_layer(tab):
    at = AppTest.from_file(str(ROOT / "pages/lstm_gates.py"), default_timeout=120).run()
    at.selectbox(key="gates_bundle").set_value(BUNDLE).run()
    at.radio(key=f"gates_layer_{BUNDLE}").set_value(1).run()
    at.text_input(key="gates_text").input("é").run()
    open_tab(at, tab)
    assert not at.exception, at.exception
    if tab in ("Heatmaps", "One cell"):
        assert heatmap_columns(at) == [1] * (len(GATES) if tab == "Heatmaps" else 1)


def test_the_chosen_cell_survives_a_trip_to_another_tab():
    at = AppTest.from_file(str(ROOT / "pages/lstm_gates.py"), default_timeout=120).run()
    at.selectbox(key="gates_bundle").set_value(BUNDLE).run()
    open_tab(at, "One cell")
    at.selectbox(key=f"gates_cell_unit_{BUNDLE}_0").set_value(7).run()
    open_tab(at, "Heatmaps")
    open_tab(at, "One cell")
    assert not at.exception, at.exception
    assert at.selectbox(key=f"gates_cell_unit_{BUNDLE}_0").value == 7


def test_choose_units_ranks_by_the_chosen_state_or_reads_indices(trace):
    layer = trace.layers[0]
    ranked, rejected = gates.choose_units(layer, "most variable", 3, ranked_by="forget")
    assert ranked == gates.select_units(layer["forget"], "most variable", 3) and rejected == []
    typed, rejected = gates.choose_units(layer, "by index", 0, spec="4, 2-3, 9999, ?")
    assert typed == [4, 2, 3] and rejected == ["9999", "?"]
