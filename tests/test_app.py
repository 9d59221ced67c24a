"""The app shell through Streamlit's AppTest, with and without the fashion corpus."""

import pytest
from streamlit.testing.v1 import AppTest

from app.corpus import FASHION_ENV
from tests.conftest import ROOT


def run_home(monkeypatch, corpus_path):
    monkeypatch.setenv(FASHION_ENV, str(corpus_path))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_home_without_fashion_corpus(monkeypatch, tmp_path):
    at = run_home(monkeypatch, tmp_path / "missing.csv")
    assert at.title[0].value.endswith("RNN Atelier")
    assert "missing.csv" in at.warning[0].value and FASHION_ENV in at.warning[0].value
    table = at.dataframe[0].value
    assert {"fashion-reviews", "wiki-sample", "glove"} <= set(table["bundle"])
    assert any("nats/char" in f for f in table["figures"])


def test_home_with_fashion_corpus(monkeypatch, fashion_csv):
    at = run_home(monkeypatch, fashion_csv)
    assert "Found at" in at.success[0].value
    assert not at.warning


@pytest.mark.parametrize("value", ["", "   "])
def test_home_with_empty_corpus_variable(monkeypatch, value):
    monkeypatch.setenv(FASHION_ENV, value)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
