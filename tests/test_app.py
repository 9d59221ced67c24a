"""The app shell through Streamlit's AppTest, with and without the fashion corpus."""

import pytest
from streamlit.testing.v1 import AppTest

from app.data.corpus import FASHION_ENV
from app.serving.site import PAGES
from tests.conftest import ROOT


def run_home(monkeypatch, corpus_path):
    monkeypatch.setenv(FASHION_ENV, str(corpus_path))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def test_home_without_fashion_corpus(monkeypatch, tmp_path):
    at = run_home(monkeypatch, tmp_path / "missing.csv")
    assert at.title[0].value.endswith("RNN Atelier")
    notice = next(i.value for i in at.info if FASHION_ENV in i.value)
    assert "not installed" in notice and str(tmp_path) not in notice  # the server's paths stay private
    models = next(m.value for m in at.markdown if "**glove · vectors**" in m.value)
    assert "**fashion-reviews · lm**" in models and "**wiki-sample · skipgram**" in models  # named, not located
    assert "nats/char" in models and "model_store" not in models
    assert len(at.get("page_link")) == len(PAGES)  # every page, each with its picture and line
    # every page's picture, but the join card's: a phone in the audience came to join, not to look
    assert len(at.get("image")) == sum(page.screenshot().is_file() for page in PAGES if page.url_path != "play") > 0


def test_home_with_fashion_corpus(monkeypatch, fashion_csv):
    at = run_home(monkeypatch, fashion_csv)
    assert any("fashion corpus is here" in c.value for c in at.caption)
    assert not at.warning and str(fashion_csv.parent) not in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("value", ["", "   "])
def test_home_with_empty_corpus_variable(monkeypatch, value):
    monkeypatch.setenv(FASHION_ENV, value)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
