"""LM playground: generation streams reproducibly, scoring colours each character by its real
probability, and fill-the-blank shows one row per context length, all through the page."""

import math
import shutil

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app.catalog import models
from app.lessons import playground
from app.lessons.highlight import probability_colour, rank_bucket
from tests.conftest import ROOT

BUNDLE = "wiki-sample"


@pytest.fixture(scope="module")
def lm():
    return models.load_language_model(BUNDLE)


def test_chunked_keeps_every_character_in_order():
    chunks = list(playground.chunked(iter("abcdefghij"), size=4))
    assert chunks == ["abcd", "efgh", "ij"]
    assert list(playground.chunked(iter(""), size=4)) == []


def test_guesses_before_each_character_line_up_with_the_score(lm):
    text = "The city of"
    score = lm.score(text)
    guesses = playground.guesses_before_each(lm, text)
    assert len(guesses) == len(text) and guesses[0] is None
    for t in range(1, len(text)):
        listed = dict(guesses[t])
        if text[t] in listed:  # the same probability, reached two ways
            assert listed[text[t]] == pytest.approx(math.exp(score.log_probs[t]), rel=1e-4)
        if score.ranks[t] == 1:
            assert guesses[t][0][0] == text[t]
    assert playground.guesses_before_each(lm, "") == []
    assert playground.guesses_before_each(lm, "a") == [None]


def test_score_pieces_colour_and_escape(lm):
    text = "<i>ok</i>"
    score = lm.score(text)
    pieces = playground.score_pieces(score, playground.guesses_before_each(lm, text))
    assert [p.text for p in pieces] == list(text)
    assert all(p.tooltip.startswith(f"P({c})") for p, c in zip(pieces, text, strict=True))
    ranked = playground.score_pieces(score, playground.guesses_before_each(lm, text), colour_by="rank")
    assert {p.colour for p in ranked} <= {"#b7e4a5", "#fff3a3", "#ffc9a3", "#f5a3b5"}


def test_context_cut_rows():
    context = "x" * 100 + " with the"
    results = [(109, [("dress", 0.2), ("fit", 0.1)]), (10, [("fit", 0.3)]), (0, [])]
    rows = playground.context_cut_rows(context, results)
    assert [r["last N characters"] for r in rows] == [109, 10, 0]
    assert rows[0]["context the model reads"].startswith("…") and len(rows[0]["context the model reads"]) == 61
    assert rows[1]["context the model reads"] == "…x with the"
    assert (rows[0]["guess 1"], rows[0]["guess 2"]) == ("dress 20.0%", "fit 10.0%")
    assert (rows[1]["guess 1"], rows[1]["guess 2"]) == ("fit 30.0%", "")
    assert rows[2]["guess 1"] == ""
    assert list(rows[0]) == ["last N characters", "guess 1", "guess 2", "context the model reads"]  # key columns first


def open_playground():
    at = AppTest.from_file(str(ROOT / "pages/playground.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    at.selectbox(key="playground_bundle").set_value(BUNDLE).run()
    assert not at.exception, at.exception
    return at


def open_tab(at, label: str):
    """Tabs are lazy: only the one in view runs. A browser click sets this same state."""
    at.session_state["playground_tab"] = label
    return at.run()


def generated_html(at) -> str:
    return next(m.value for m in at.markdown if 'title="your start"' in m.value)


def st_state(at):
    return at.session_state["playground_generated"]


def test_generate_streams_a_reproducible_sample(lm):
    at = open_playground()
    at.text_input(key="playground_prime").input("The <b>river")
    at.number_input(key="playground_seed").set_value(11)
    at.slider(key="playground_length").set_value(60)
    at.checkbox(key="playground_one_review").uncheck()
    at.button(key="playground_generate").click().run()
    assert not at.exception, at.exception
    first = generated_html(at)
    assert "The &lt;b&gt;river" in first and "<b>" not in first
    assert any("characters per second" in c.value for c in at.caption)
    assert any("nats per character" in c.value for c in at.caption)  # the model scores its own text
    # coloured by confidence: one span per written character, its colour the model's probability of it
    written = st_state(at)[2]
    score = lm.score(written, context="The <b>river")
    assert first.count("<span") == 1 + len(written)
    expected = probability_colour(float(np.exp(score.log_probs[0])))
    assert f"background:{expected}" in first.split("</span>", 2)[1]  # the first written character's colour

    at.button(key="playground_generate").click().run()  # same seed, same text
    assert generated_html(at) == first
    at.number_input(key="playground_seed").set_value(12)
    at.button(key="playground_generate").click().run()
    assert generated_html(at) != first
    at.radio(key="playground_sample_colour").set_value("rank").run()
    assert not at.exception, at.exception
    assert rank_bucket(int(lm.score(st_state(at)[2], context='The <b>river').ranks[0]))[1] in generated_html(at).split("</span>", 2)[1]


def test_score_and_fill_the_blank(lm):
    at = open_tab(open_playground(), "Score a sentence")
    assert not at.dataframe  # fill-the-blank did not run
    sentence = "The river runs to the sea."
    at.text_input(key="playground_sentence").input(sentence).run()
    assert not at.exception, at.exception
    nats = float(at.metric[0].value)
    assert nats == pytest.approx(lm.score(sentence).nats_per_char, abs=0.006)
    assert float(at.metric[1].value) == pytest.approx(nats / math.log(2), abs=0.02)

    at.text_input(key="playground_sentence").input("<script>alert(1)</script> ☃").run()
    assert not at.exception, at.exception
    html = "".join(m.value for m in at.markdown)
    assert "<script" not in html and "&lt;" in html

    at.text_input(key="playground_sentence").input("").run()
    assert not at.exception, at.exception
    assert any("Type a sentence" in info.value for info in at.info)

    open_tab(at, "Fill the blank")
    context = "The old bridge was built of stone in the north of the city, and it was famous for the"
    at.text_area(key="playground_context").input(context)
    at.multiselect(key="playground_cuts").set_value([25, 6]).run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table["last N characters"].tolist() == [len(context), 25, 6]
    assert all(isinstance(w, str) and w for w in table["guess 1"])
    expected = lm.next_words(context[-6:])[0][0]
    assert table["guess 1"].iloc[-1].startswith(expected + " ")

    at.text_area(key="playground_context").input("   ").run()
    assert not at.exception, at.exception
    assert any("Type a context" in info.value for info in at.info)


def test_huge_input_is_truncated_in_the_page():
    at = open_tab(open_playground(), "Score a sentence")
    at.text_input(key="playground_sentence").input("ab" * 700).run()
    assert not at.exception, at.exception
    assert any("1,400" in w.value for w in at.warning)
    assert np.isfinite(float(at.metric[0].value))


def test_choices_survive_a_trip_to_another_tab():
    at = open_playground()
    at.slider(key="playground_temperature").set_value(1.5).run()
    open_tab(at, "Fill the blank")
    open_tab(at, "Generate")
    assert not at.exception, at.exception
    assert at.slider(key="playground_temperature").value == 1.5
    assert at.text_input(key="playground_prime").value  # the prefilled start is still there


def test_a_damaged_model_file_gives_a_message_not_a_crash(tmp_path, monkeypatch):
    from app.storage import store

    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(store.STORE / BUNDLE / "manifest.json", broken / "manifest.json")
    (broken / "lm.safetensors").write_bytes(b"not the trained weights")
    monkeypatch.setattr(store, "STORE", tmp_path)
    at = AppTest.from_file(str(ROOT / "pages/playground.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert "broken" in at.error[0].value
