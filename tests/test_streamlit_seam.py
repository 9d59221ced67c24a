"""Each use of Streamlit's non-public API (app/serving/streamlit_seam.py) still finds what it touches.

A Streamlit upgrade that moves or renames one of them fails here, loudly, instead of the app quietly
losing the fix (a deep link's "Page not found", a slower rerun, a chart that loads late, a cramped phone).
"""

import inspect

import pytest
import streamlit
from streamlit.runtime import app_session
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner

from app.serving import launch, streamlit_seam


@pytest.fixture
def pages_flag():
    """PagesManager's process-wide flag, put back after the test."""
    before = PagesManager.uses_pages_directory
    yield
    PagesManager.uses_pages_directory = before


@pytest.fixture
def theme_builder(monkeypatch):
    """Streamlit's own theme builder in place (and put back) around the test."""
    original = app_session._populate_theme_msg
    while getattr(original, "built_once", False):  # an earlier test in this process applied the patch
        original = inspect.getclosurevars(original).nonlocals["build"]
    monkeypatch.setattr(app_session, "_populate_theme_msg", original)
    return original


# ---------------------------------------------------------------- 1. deep links


def test_the_pages_directory_flag_is_still_where_the_deep_link_fix_sets_it(pages_flag):
    assert "uses_pages_directory" in vars(PagesManager)
    PagesManager.uses_pages_directory = None
    streamlit_seam.first_visitor_deep_links()
    assert PagesManager.uses_pages_directory is False
    assert not streamlit_seam.old_navigation_running()


def test_streamlit_still_decides_the_old_navigation_by_that_flag(pages_flag):
    """The flag is worth setting only while the script runner and PagesManager read it."""
    assert "PagesManager.uses_pages_directory" in inspect.getsource(script_runner.ScriptRunner)
    assert "_mpa_v1" in inspect.getsource(script_runner.ScriptRunner)
    assert "uses_pages_directory is None" in inspect.getsource(PagesManager.__init__)  # set once, if unset
    PagesManager.uses_pages_directory = True
    assert streamlit_seam.old_navigation_running()


def test_the_deep_link_fix_raises_when_the_flag_is_gone(monkeypatch):
    monkeypatch.delattr(PagesManager, "uses_pages_directory")
    with pytest.raises(streamlit_seam.SeamBroken, match="uses_pages_directory"):
        streamlit_seam.first_visitor_deep_links()
    with pytest.raises(streamlit_seam.SeamBroken):
        streamlit_seam.old_navigation_running()


# ---------------------------------------------------------------- 2. the theme message


def test_the_theme_builder_exists_and_is_patched(theme_builder):
    assert callable(theme_builder)
    assert list(inspect.signature(theme_builder).parameters)[:2] == ["msg", "section"]
    streamlit_seam.build_theme_once()
    patched = app_session._populate_theme_msg
    assert patched is not theme_builder and patched.built_once
    streamlit_seam.build_theme_once()  # a second call keeps the first patch
    assert app_session._populate_theme_msg is patched


def test_the_theme_patch_raises_when_the_builder_is_gone(monkeypatch):
    monkeypatch.delattr(app_session, "_populate_theme_msg")
    with pytest.raises(streamlit_seam.SeamBroken, match="_populate_theme_msg"):
        streamlit_seam.build_theme_once()


def test_the_launcher_applies_both_fixes(theme_builder, pages_flag):
    PagesManager.uses_pages_directory = None
    launch.prepare()
    assert PagesManager.uses_pages_directory is False
    assert app_session._populate_theme_msg.built_once


# ---------------------------------------------------------------- 3. the command line


def test_the_streamlit_command_is_importable():
    from streamlit.web.cli import main

    assert streamlit_seam.streamlit_cli() is main
    assert "run" in main.commands


# ---------------------------------------------------------------- 4. the chart code's files


@pytest.mark.parametrize("pattern", [streamlit_seam.TABLE_CHUNKS, streamlit_seam.PLOTLY_CHUNKS])
def test_the_chart_chunks_are_found(pattern):
    found = streamlit_seam.chart_chunks(pattern)
    assert found, f"no {pattern} in {streamlit_seam.STATIC_JS}: the chart warm-up loads nothing"
    assert all((streamlit_seam.STATIC_JS / name).is_file() for name in found)


def test_the_warm_up_sends_those_chunks():
    from app import ui

    assert ui.TABLE_CHUNKS == streamlit_seam.chart_chunks(streamlit_seam.TABLE_CHUNKS)
    assert ui.PLOTLY_CHUNKS == streamlit_seam.chart_chunks(streamlit_seam.PLOTLY_CHUNKS)


# ---------------------------------------------------------------- 5. CSS


def test_the_main_block_selector_is_in_streamlits_frontend():
    test_id = streamlit_seam.MAIN_BLOCK_SELECTOR.split('"')[1]
    assert any(test_id in path.read_text(encoding="utf-8", errors="ignore")
               for path in streamlit_seam.STATIC_JS.glob("index.*.js")), f"{test_id} is gone from Streamlit's markup"


def test_the_seam_says_which_streamlit_it_was_written_for():
    """A new Streamlit: run this file, then raise TESTED_WITH (and requirements.txt) together."""
    assert streamlit.__version__ == streamlit_seam.TESTED_WITH
